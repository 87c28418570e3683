"""L3 tested: the project rules relating lib code to tests, and the test-quality rules, each
with positive, negative and suppressed cases."""

from __future__ import annotations

from checks.config import Config, RuleSetting
from checks.context import SourceFile
from checks.l3_support import conventional_test_paths
from checks.l3_test_presence import ERROR_UNTESTED, MODULE_UNTESTED
from checks.l3_test_quality import (
    FILE_NAME,
    NO_ASSERTION,
    NOT_ASYNC,
    SKIP_WITHOUT_REASON,
    SLEEP,
    VAGUE_NAME,
)
from checks.ladder import review
from checks.model import Rule, Severity
from checks.sources import prepare
from tests.conftest import findings_for, lines_of

ACCOUNTS = (
    "defmodule Shop.Accounts do\n"
    '  @moduledoc "Accounts."\n'
    "  def get_user(nil), do: {:error, :not_found}\n"
    "  def get_user(id), do: {:ok, id}\n"
    "\n"
    "  @doc false\n"
    "  def internal(x), do: x\n"
    "\n"
    "  @impl true\n"
    "  def init(x), do: {:ok, x}\n"
    "\n"
    "  def create(attrs) do\n"
    "    if attrs.ok do\n"
    "      {:ok, attrs}\n"
    "    else\n"
    "      {:error, :invalid}\n"
    "    end\n"
    "  end\n"
    "\n"
    "  defp helper(x), do: x\n"
    "end\n"
)


def exunit(body: str, module: str = "Shop.AccountsTest") -> str:
    return f"defmodule {module} do\n  use ExUnit.Case, async: true\n{body}end\n"


OK_ONLY = exunit('  test "get_user/1 returns the user" do\n    assert {:ok, 1} = get(1)\n  end\n')


def params(rule: Rule, **values: object) -> Config:
    return Config(rules={rule.id: RuleSetting(params=values)})


# --- conventional paths ---------------------------------------------------------------------


def test_conventional_test_paths():
    assert conventional_test_paths("lib/shop/accounts.ex") == (
        "test/shop/accounts_test.exs",
        "test/shop_test.exs",
    )
    assert conventional_test_paths("lib/shop.ex") == ("test/shop_test.exs",)
    assert conventional_test_paths("apps/core/lib/core/user.ex")[0] == (
        "apps/core/test/core/user_test.exs"
    )
    assert conventional_test_paths("lib/shop_web/live/user_live/index.ex")[1] == (
        "test/shop_web/live/user_live_test.exs"
    )
    assert conventional_test_paths("mix.exs") == ()


# --- module untested ------------------------------------------------------------------------


def test_module_without_test_reports_each_public_function():
    found = findings_for(MODULE_UNTESTED, {"lib/shop/accounts.ex": ACCOUNTS})
    assert [(f.line, f.end_line) for f in found] == [(3, 4), (12, 18)]
    assert found[0].message == (
        "public def Shop.Accounts.get_user/1 has no test: no test/shop/accounts_test.exs and "
        "no test refers to Shop.Accounts"
    )
    assert found[0].severity is Severity.WARNING


def test_conventional_test_file_covers_the_module():
    files = {"lib/shop/accounts.ex": ACCOUNTS, "test/shop/accounts_test.exs": OK_ONLY}
    assert findings_for(MODULE_UNTESTED, files) == []


def test_a_test_that_aliases_the_module_covers_it():
    body = (
        "  alias Shop.{Accounts, Orders}\n"
        '  test "lists no users" do\n    assert Accounts.x()\n  end\n'
    )
    files = {
        "lib/shop/accounts.ex": ACCOUNTS,
        "test/shop/registration_test.exs": exunit(body, "Shop.RegistrationTest"),
    }
    assert findings_for(MODULE_UNTESTED, files) == []


def test_a_test_named_after_the_module_covers_it_anywhere():
    files = {
        "lib/shop/accounts.ex": ACCOUNTS,
        "test/integration/accounts_test.exs": exunit('  test "a b c" do\n    assert 1\n  end\n'),
    }
    assert findings_for(MODULE_UNTESTED, files) == []


def test_a_test_of_another_module_does_not_cover_it():
    files = {
        "lib/shop/accounts.ex": ACCOUNTS,
        "test/shop/orders_test.exs": exunit(
            '  test "places an order" do\n    assert Shop.Accounts.Helpers.get(1)\n  end\n',
            "Shop.OrdersTest",
        ),
    }
    assert len(findings_for(MODULE_UNTESTED, files)) == 2


def test_liveview_generator_layout_counts_as_conventional():
    live = (
        'defmodule ShopWeb.UserLive.Index do\n  @moduledoc "Users."\n  def title(x), do: x\nend\n'
    )
    files = {
        "lib/shop_web/live/user_live/index.ex": live,
        "test/shop_web/live/user_live_test.exs": OK_ONLY,
    }
    assert findings_for(MODULE_UNTESTED, files) == []


def test_plumbing_modules_and_callback_only_modules_are_exempt():
    plumbing = 'defmodule ShopWeb.Endpoint do\n  def url, do: "x"\nend\n'
    callbacks = (
        "defmodule Shop.Application do\n  @impl true\n  def start(_, _), do: {:ok, self()}\nend\n"
    )
    worker = "defmodule Shop.Worker do\n  @impl true\n  def init(x), do: {:ok, x}\nend\n"
    files = {
        "lib/shop_web/endpoint.ex": plumbing,
        "lib/shop/application.ex": callbacks,
        "lib/shop/worker.ex": worker,
    }
    assert findings_for(MODULE_UNTESTED, files) == []
    cfg = params(MODULE_UNTESTED, ignore_modules=[])
    assert lines_of(findings_for(MODULE_UNTESTED, files, config=cfg)) == [2]


def test_only_changed_lib_files_get_findings_and_context_tests_count():
    config = Config()
    sources = [
        prepare("lib/shop/accounts.ex", ACCOUNTS.encode(), config),
        prepare("lib/shop/orders.ex", ACCOUNTS.replace("Accounts", "Orders").encode(), config),
        prepare("test/shop/accounts_test.exs", OK_ONLY.encode(), config),
    ]
    assert all(isinstance(s, SourceFile) for s in sources)
    outcome = review(
        sources,  # type: ignore[arg-type]
        config,
        rules=[MODULE_UNTESTED],
        changed=["lib/shop/accounts.ex"],
        jobs=1,
    )
    assert outcome.findings == []  # covered by the context test; orders.ex is not under review


def test_module_untested_suppressed_per_function():
    src = ACCOUNTS.replace(
        "  def create(attrs)",
        "  # ladder:disable-next-line L3.module-untested -- exercised by the API tests\n"
        "  def create(attrs)",
    )
    found = findings_for(MODULE_UNTESTED, {"lib/shop/accounts.ex": src})
    assert lines_of(found) == [3]


# --- error path untested --------------------------------------------------------------------


def test_error_path_untested_when_tests_never_assert_an_error():
    files = {"lib/shop/accounts.ex": ACCOUNTS, "test/shop/accounts_test.exs": OK_ONLY}
    found = findings_for(ERROR_UNTESTED, files)
    assert lines_of(found) == [3, 16]
    assert found[0].message == (
        "error path untested: Shop.Accounts.get_user/1 returns `{:error, :not_found}` but no "
        "test of Shop.Accounts (test/shop/accounts_test.exs) asserts an `{:error, _}` result"
    )


def test_error_asserted_in_any_form_covers_the_module():
    forms = [
        "    assert {:error, :not_found} = get(nil)\n",
        "    assert get(nil) == {:error, :not_found}\n",
        "    {:error, reason} = get(nil)\n    assert reason\n",
        "    case get(nil) do\n      {:error, _} -> :ok\n    end\n",
        "    refute match?({:error, _}, get(1))\n",
    ]
    for form in forms:
        body = f'  test "get_user/1 fails without an id" do\n{form}  end\n'
        files = {"lib/shop/accounts.ex": ACCOUNTS, "test/shop/accounts_test.exs": exunit(body)}
        assert findings_for(ERROR_UNTESTED, files) == [], form


def test_error_tuple_not_returned_is_not_an_error_path():
    lib = (
        "defmodule Shop.Log do\n"
        "  def note(x) do\n"
        "    record({:error, x})\n"
        "    :ok\n"
        "  end\n"
        "  def wrap(x), do: Enum.map(x, fn y -> {:error, y} end)\n"
        "end\n"
    )
    files = {"lib/shop/log.ex": lib, "test/shop/log_test.exs": OK_ONLY}
    assert findings_for(ERROR_UNTESTED, files) == []


def test_no_test_at_all_is_left_to_module_untested():
    assert findings_for(ERROR_UNTESTED, {"lib/shop/accounts.ex": ACCOUNTS}) == []


def test_web_modules_are_exempt_from_error_paths():
    controller = ACCOUNTS.replace("Shop.Accounts", "ShopWeb.UserController")
    files = {
        "lib/shop_web/controllers/user_controller.ex": controller,
        "test/shop_web/controllers/user_controller_test.exs": OK_ONLY,
    }
    assert findings_for(ERROR_UNTESTED, files) == []


def test_error_path_untested_suppressed():
    src = ACCOUNTS.replace(
        "  def get_user(nil)",
        "  # ladder:disable-next-line L3.error-path-untested -- covered by property tests\n"
        "  def get_user(nil)",
    )
    files = {"lib/shop/accounts.ex": src, "test/shop/accounts_test.exs": OK_ONLY}
    assert lines_of(findings_for(ERROR_UNTESTED, files)) == [17]


# --- test quality ---------------------------------------------------------------------------

TEST_PATH = "test/shop/accounts_test.exs"


def test_test_without_assertion_is_an_error():
    src = exunit(
        '  test "creates a user with valid attributes" do\n'
        "    Shop.Accounts.create(%{})\n"
        "  end\n"
        '  test "lists users on an empty database" do\n'
        "    assert [] = Shop.Accounts.list()\n"
        "  end\n"
        '  test "pending test without a body"\n',
    )
    found = findings_for(NO_ASSERTION, src, path=TEST_PATH)
    assert lines_of(found) == [3]
    assert found[0].severity is Severity.ERROR
    assert '"creates a user with valid attributes" asserts nothing' in found[0].message


def test_assertions_come_in_many_forms():
    bodies = [
        "    assert_receive :done\n",
        "    refute Shop.Accounts.exists?(1)\n",
        "    assert_raise ArgumentError, fn -> raise ArgumentError end\n",
        "    Mox.expect(Shop.Mock, :call, fn -> :ok end)\n",
        "    expect(Shop.Mock, :call, fn -> :ok end)\n",
        '    conn |> get(~p"/") |> html_response(200) |> assert_html()\n',
        '    Swoosh.TestAssertions.assert_email_sent(subject: "Hi")\n',
        '    flunk("not yet")\n',
        "    check_user(1)\n",
        "    check_twice(1)\n",
    ]
    helpers = (
        "  defp check_user(id), do: assert(Shop.Accounts.get(id))\n"
        "  defp check_twice(id) do\n    check_user(id)\n    check_user(id)\n  end\n"
    )
    for body in bodies:
        src = exunit(f'  test "does the thing it says" do\n{body}  end\n{helpers}')
        assert findings_for(NO_ASSERTION, src, path=TEST_PATH) == [], body


def test_property_blocks_count_as_tests():
    src = exunit(
        '  property "reverse of reverse is the list" do\n'
        "    check all list <- list_of(integer()) do\n"
        "      Enum.reverse(Enum.reverse(list))\n"
        "    end\n"
        "  end\n",
    )
    found = findings_for(NO_ASSERTION, src, path=TEST_PATH)
    assert lines_of(found) == [3]
    assert found[0].message.startswith("property ")


def test_assertion_functions_are_configurable_and_suppression_works():
    src = exunit('  test "sends the welcome mail" do\n    verify_mail(:welcome)\n  end\n')
    cfg = params(NO_ASSERTION, assertion_functions=["verify_mail"])
    assert findings_for(NO_ASSERTION, src, path=TEST_PATH, config=cfg) == []
    suppressed = src.replace(
        '  test "sends',
        "  # ladder:disable-next-line L3.test-without-assertion -- smoke test for crashes\n"
        '  test "sends',
    )
    assert findings_for(NO_ASSERTION, suppressed, path=TEST_PATH) == []


def test_vague_test_names():
    names = ["works", "test email", "it works correctly", "should work as expected", "basic test"]
    good = [
        "returns an error when the email is taken",
        "get_user/1 returns nil",
        "lists #{kind} users",
    ]
    body = "".join(f'  test "{n}" do\n    assert true\n  end\n' for n in names + good)
    found = findings_for(VAGUE_NAME, exunit(body), path=TEST_PATH)
    assert lines_of(found) == [3, 6, 9, 12, 15]
    assert found[0].message.startswith('test name "works" is vague')


def test_vague_name_threshold_configurable_and_suppressed():
    src = exunit('  test "creates user" do\n    assert true\n  end\n')
    assert lines_of(findings_for(VAGUE_NAME, src, path=TEST_PATH)) == [3]
    assert (
        findings_for(VAGUE_NAME, src, path=TEST_PATH, config=params(VAGUE_NAME, min_words=2))
        == []
    )
    suppressed = src.replace(
        '  test "creates user"',
        "  # ladder:disable-next-line L3.test-name-vague -- mirrors the spec wording\n"
        '  test "creates user"',
    )
    assert findings_for(VAGUE_NAME, suppressed, path=TEST_PATH) == []


def test_case_without_async_is_a_notice():
    src = (
        "defmodule Shop.AccountsTest do\n  use Shop.DataCase\n"
        '  test "a b c" do\n    assert 1\n  end\nend\n'
    )
    found = findings_for(NOT_ASYNC, src, path=TEST_PATH)
    assert lines_of(found) == [2]
    assert found[0].severity is Severity.NOTICE
    assert "`use Shop.DataCase` without `async:`" in found[0].message


def test_explicit_async_and_case_templates_are_fine():
    for use in (
        "use ExUnit.Case, async: true",
        "use Shop.ConnCase, async: false",
        "use ExUnit.CaseTemplate",
    ):
        src = f"defmodule Shop.AccountsTest do\n  {use}\nend\n"
        assert findings_for(NOT_ASYNC, src, path=TEST_PATH) == [], use


def test_not_async_only_in_test_files_and_suppressed():
    src = "defmodule Shop.Helper do\n  use ExUnit.Case\nend\n"
    assert findings_for(NOT_ASYNC, src, path="test/shop/helper.exs") == []
    suppressed = (
        "defmodule Shop.AccountsTest do\n"
        "  # credo:disable-for-next-line Credo.Check.Refactor.PassAsyncInTestCases\n"
        "  use ExUnit.Case\n"
        "end\n"
    )
    assert findings_for(NOT_ASYNC, suppressed, path=TEST_PATH) == []


def test_skipped_test_without_reason():
    src = exunit(
        "  @tag :skip\n"
        '  test "charges the card" do\n    assert true\n  end\n'
        "  # The vendor sandbox is down (SHOP-12).\n"
        "  @tag :skip\n"
        '  test "refunds the card" do\n    assert true\n  end\n'
        "  @tag :skip # flaky on CI, see SHOP-13\n"
        '  test "voids the card" do\n    assert true\n  end\n'
        '  @tag skip: "needs a real card"\n'
        "  @tag skip: true\n"
        "  @moduletag :skip\n"
        "  @describetag :integration\n",
    )
    found = findings_for(SKIP_WITHOUT_REASON, src, path=TEST_PATH)
    assert lines_of(found) == [3, 17, 18]
    assert "`@moduletag :skip`" in found[2].message


def test_skipped_test_suppressed_with_credo_comment():
    src = exunit(
        "  # credo:disable-for-next-line Credo.Check.Design.SkipTestWithoutComment\n"
        "  @tag :skip\n",
    )
    # the credo comment is itself a comment above the tag: both readings agree
    assert findings_for(SKIP_WITHOUT_REASON, src, path=TEST_PATH) == []


def test_test_file_not_ending_in_test_exs_never_runs():
    src = exunit('  test "lists users" do\n    assert true\n  end\n')
    found = findings_for(FILE_NAME, src, path="test/shop/accounts_tests.exs")
    assert lines_of(found) == [2]
    assert found[0].severity is Severity.ERROR
    assert found[0].fix == "rename it to accounts_test.exs"
    found = findings_for(FILE_NAME, src, path="test/shop/test_accounts.exs")
    assert found[0].fix == "rename it to accounts_test.exs"
    assert findings_for(FILE_NAME, src, path=TEST_PATH) == []


def test_test_file_name_checks_ex_extension_and_ignores_helpers():
    src = exunit('  test "lists users" do\n    assert true\n  end\n')
    found = findings_for(FILE_NAME, src, path="test/shop/accounts_test.ex")
    assert lines_of(found) == [1]
    assert "ends in `.ex`" in found[0].message
    helper = "defmodule Shop.Fixtures do\n  def user, do: %{}\nend\n"
    assert findings_for(FILE_NAME, helper, path="test/fixtures/users.exs") == []
    assert findings_for(FILE_NAME, helper, path="lib/shop/fixtures.ex") == []


def test_test_file_name_suppressed_with_credo_comment():
    src = (
        "defmodule Shop.AccountsTest do\n"
        "  # credo:disable-for-next-line Credo.Check.Warning.WrongTestFilename\n"
        "  use ExUnit.Case, async: true\n"
        "end\n"
    )
    assert findings_for(FILE_NAME, src, path="test/shop/accounts.exs") == []


def test_process_sleep_in_tests_is_a_notice():
    src = exunit(
        '  test "sends the receipt" do\n'
        "    Process.sleep(100)\n"
        "    :timer.sleep(10)\n"
        "    assert_received :receipt\n"
        "  end\n",
    )
    found = findings_for(SLEEP, src, path=TEST_PATH)
    assert lines_of(found) == [4, 5]
    assert found[0].severity is Severity.NOTICE
    lib = "defmodule Shop.Poller do\n  def wait, do: Process.sleep(100)\nend\n"
    assert findings_for(SLEEP, lib, path="lib/shop/poller.ex") == []
    suppressed = src.replace(
        "    Process.sleep(100)\n",
        "    # ladder:disable-next-line L3.process-sleep -- the API rate-limits us\n"
        "    Process.sleep(100)\n",
    )
    assert lines_of(findings_for(SLEEP, suppressed, path=TEST_PATH)) == [6]


def test_field_accesses_in_tests_are_not_mistaken_for_calls():
    src = exunit(
        '  test "uses the default settings" do\n'
        "    assert defaults.size == testing.count\n"
        "  end\n"
    )
    assert findings_for(NO_ASSERTION, src, path=TEST_PATH) == []
    assert findings_for(VAGUE_NAME, src, path=TEST_PATH) == []
