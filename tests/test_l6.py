"""L6 (observable) rules: positive, negative (the safe patterns) and suppressed cases."""

from __future__ import annotations

from textwrap import dedent

import pytest

from checks import (
    l6_context_observability,
    l6_durations,
    l6_logging,
    l6_swallowed_errors,
    l6_telemetry,
)
from checks.config import Config, RuleSetting
from checks.model import Severity
from tests.conftest import findings_for, lines_of


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


# --- swallowed errors -------------------------------------------------------------------------

SWALLOWED = src(
    """
    defmodule Shop.Orders do
      require Logger

      def a(cs) do
        case Repo.insert(cs) do
          {:ok, order} -> order
          {:error, _changeset} -> nil
        end
      end

      def b(id) do
        case fetch(id) do
          {:ok, x} -> x
          {:error, reason} -> :ok
          {:error, :not_found} -> nil
        end
      end

      def c(id) do
        case fetch(id) do
          {:error, reason} -> {:error, reason}
          {:error, reason} -> Logger.warning("fetch failed", reason: inspect(reason)); nil
          {:error, _} = err -> err
          {:error, _} -> :telemetry.execute([:shop, :fetch, :failed], %{}, %{}); []
          {:error, _} -> default_for(id)
          :error -> nil
        end
      end

      def d(list), do: Enum.map(list, fn {:error, _} -> [] ; x -> x end)

      def e(id) do
        case fetch(id) do
          # ladder:disable-next-line L6.error-swallowed -- the cache is best effort
          {:error, _} -> nil
          {:ok, v} -> v
        end
      end
    end
    """
)


def test_error_swallowed():
    found = findings_for(l6_swallowed_errors.ERROR_SWALLOWED, SWALLOWED)
    assert lines_of(found) == [7, 14, 30]
    assert found[0].severity is Severity.NOTICE
    assert "`{:error, _changeset} -> nil` drops the error" in found[0].message


def test_error_swallowed_severity_can_be_raised():
    config = Config(rules={"L6.error-swallowed": RuleSetting(severity=Severity.WARNING)})
    found = findings_for(l6_swallowed_errors.ERROR_SWALLOWED, SWALLOWED, config=config)
    assert {f.severity for f in found} == {Severity.WARNING}


def test_error_swallowed_ignores_tests():
    assert findings_for(l6_swallowed_errors.ERROR_SWALLOWED, SWALLOWED, "test/a_test.exs") == []


RESCUES = src(
    """
    defmodule Shop.Rates do
      require Logger

      def a do
        try do
          call()
        rescue
          _ -> nil
        end
      end

      def b do
        call()
      rescue
        e -> %{}
      end

      def c do
        try do
          call()
        rescue
          e -> {:error, e}
        end
      end

      def d do
        try do
          call()
        rescue
          e -> Logger.error("failed", error: Exception.message(e)); nil
        end
      end

      def e do
        try do
          call()
        rescue
          e -> reraise e, __STACKTRACE__
        end
      end

      def f do
        try do
          call()
        rescue
          e in Jason.DecodeError -> nil
          # ladder:disable-next-line L6.rescue-swallowed -- probing an optional dependency
          _ -> nil
        catch
          :exit, _ -> :ok
          _, _ -> nil
          kind, reason -> {kind, reason}
          :exit, {:timeout, _} -> :timeout
          :throw, value -> value
          _ -> Sentry.capture_message("thrown"); nil
        end
      end
    end
    """
)


def test_rescue_swallowed():
    found = findings_for(l6_swallowed_errors.RESCUE_SWALLOWED, RESCUES)
    assert lines_of(found) == [8, 15]
    assert "`rescue _ -> nil`" in found[0].message


def test_catch_swallowed():
    found = findings_for(l6_swallowed_errors.CATCH_SWALLOWED, RESCUES)
    assert lines_of(found) == [50, 51]
    assert "`catch :exit, _ -> :ok`" in found[0].message
    suppressed = RESCUES.replace(
        "      :exit, _ -> :ok",
        "      # ladder:disable-next-line L6.catch-swallowed -- shutdown race is expected\n"
        "      :exit, _ -> :ok",
    )
    assert lines_of(findings_for(l6_swallowed_errors.CATCH_SWALLOWED, suppressed)) == [52]


def test_todo_in_error_branch():
    code = src(
        """
        defmodule Shop.Mailer do
          # TODO: this one is fine, not in an error branch
          def a(email) do
            case deliver(email) do
              {:ok, _} -> :ok # TODO not an error branch either
              {:error, reason} ->
                # TODO: retry
                {:error, reason}
            end
          end

          def b do
            try do
              call()
            rescue
              # FIXME handle timeouts
              e in RuntimeError -> {:error, e}
            end
          end

          def c(x) do
            with {:ok, y} <- f(x) do
              y
            else
              :error -> nil # TODO
              # ladder:disable-next-line L6.todo-in-error-branch -- tracked in #123
              other -> other # TODO
            end
          end

          def d, do: "# TODO inside a string in a rescue" |> IO.iodata_length()
        end
        """
    )
    found = findings_for(l6_swallowed_errors.TODO_IN_ERROR, code)
    assert [(f.line, f.column) for f in found] == [(7, 9), (16, 7), (25, 21)]
    assert found[1].message.startswith("FIXME inside an error branch")


def test_with_else_erases_reason():
    code = src(
        """
        defmodule Shop.Checkout do
          def a(cart) do
            with {:ok, o} <- create(cart), {:ok, _} <- charge(o) do
              {:ok, o}
            else
              {:error, %Ecto.Changeset{} = cs} -> {:error, cs}
              _ -> {:error, :checkout_failed}
            end
          end

          def b(cart) do
            with {:ok, o} <- create(cart), do: o, else: (_other -> nil)
          end

          def c(cart) do
            with {:ok, o} <- create(cart) do
              o
            else
              {:error, reason} -> {:error, reason}
            end
          end

          def d(cart) do
            case create(cart) do
              {:ok, o} -> o
              _ -> nil
            end
          end

          def e(cart) do
            with {:ok, o} <- create(cart) do
              o
            else
              # ladder:disable-next-line L6.with-else-erases-reason -- create/1 only fails one way
              _ -> {:error, :invalid}
            end
          end
        end
        """
    )
    found = findings_for(l6_swallowed_errors.WITH_ELSE, code)
    assert lines_of(found) == [7, 12]


# --- durations --------------------------------------------------------------------------------


def test_wall_clock_duration():
    code = src(
        """
        defmodule Shop.Import do
          def a(rows) do
            start = System.system_time(:millisecond)
            insert(rows)
            System.system_time(:millisecond) - start
          end

          def b do
            t0 = DateTime.utc_now()
            work()
            DateTime.diff(DateTime.utc_now(), t0, :millisecond)
          end

          def c do
            t0 = :os.timestamp()
            work()
            :timer.now_diff(:os.timestamp(), t0)
          end

          def age(user), do: DateTime.diff(DateTime.utc_now(), user.inserted_at)

          def good do
            start = System.monotonic_time()
            work()
            System.convert_time_unit(System.monotonic_time() - start, :native, :millisecond)
          end

          def offset(now), do: System.system_time(:second) - 3600

          def d do
            start = System.os_time()
            work()
            # ladder:disable-next-line L6.wall-clock-duration -- compared with an external log
            System.os_time() - start
          end
        end
        """
    )
    found = findings_for(l6_durations.WALL_CLOCK_DURATION, code)
    assert lines_of(found) == [5, 11, 17]
    assert "System.monotonic_time" in (found[0].fix or "")
    assert "`DateTime.diff` diffs two `DateTime.utc_now` readings" in found[1].message


# --- logging ----------------------------------------------------------------------------------


def test_log_interpolation():
    code = src(
        """
        defmodule Shop.Payments do
          require Logger

          def a(order) do
            Logger.info("charged #{order.total} for #{order.id}")
            Logger.log(:warning, "retrying #{order.id}")
            Logger.debug(fn -> "lazy #{inspect(order)}" end)
            Logger.info("order charged", order_id: order.id)
            Logger.error("plain message")
            # ladder:disable-next-line L6.log-interpolation -- human-facing audit line
            Logger.info("audit #{order.id}")
          end
        end
        """
    )
    found = findings_for(l6_logging.LOG_INTERPOLATION, code)
    assert lines_of(found) == [5, 6, 7]
    assert "interpolates order.total, order.id" in found[0].message


def test_io_logging():
    code = src(
        """
        defmodule Shop.Import do
          def run(rows) do
            IO.puts("importing")
            IO.write(:stderr, "done")
            IO.inspect(rows)
            # ladder:disable-next-line L6.io-logging -- progress bar for the operator
            IO.write(".")
          end
        end

        defmodule Mix.Tasks.Shop.Seed do
          use Mix.Task
          def run(_), do: IO.puts("seeded")
        end
        """
    )
    found = findings_for(l6_logging.IO_LOGGING, code)
    assert lines_of(found) == [3, 4]
    assert found[0].severity is Severity.WARNING
    assert findings_for(l6_logging.IO_LOGGING, code, path="lib/mix/tasks/seed.ex") == []
    assert findings_for(l6_logging.IO_LOGGING, code, path="test/x_test.exs") == []


# --- telemetry --------------------------------------------------------------------------------


def test_telemetry_event_names():
    code = src(
        """
        defmodule Shop.Import do
          def a do
            :telemetry.execute([:shop, :import, :begin], %{}, %{})
            :telemetry.execute([:shop, :import, :done], %{}, %{})
            :telemetry.execute(:shop_import, %{}, %{})
            :telemetry.execute([:import, :start], %{}, %{})
            :telemetry.execute([:shop, :sync, :start], %{}, %{})
            :telemetry.execute([:shop, :export, :start], %{}, %{})
            :telemetry.execute([:shop, :export, :stop], %{duration: 1}, %{})
            :telemetry.execute([:shop, :orders, :created], %{count: 1}, %{})
            # ladder:disable-next-line L6.telemetry-event-name -- legacy dashboard name
            :telemetry.execute([:shop, :legacy, :finished], %{}, %{})
          end
        end
        """
    )
    found = findings_for(l6_telemetry.TELEMETRY_EVENT, code)
    assert lines_of(found) == [3, 4, 5, 6, 7]
    assert "[:shop, :import, :start]" in (found[0].fix or "")
    assert "never closes" in found[4].message


def test_telemetry_span_misuse():
    code = src(
        """
        defmodule Shop.Checkout do
          def a(cart) do
            :telemetry.span([:shop, :checkout, :start], %{}, fn -> {place(cart), %{}} end)
            :telemetry.span([:shop, :checkout], [cart: 1], fn -> {place(cart), %{}} end)
            :telemetry.span([:shop, :checkout], %{}, fn -> :ok end)
            :telemetry.span([:shop, :checkout], %{}, fn -> {1, 2, 3, 4} end)
            :telemetry.span([:shop, :checkout], %{}, fn -> place_with_meta(cart) end)
            :telemetry.span([:shop, :checkout], %{}, fn -> {place(cart), %{}, %{}} end)
            # ladder:disable-next-line L6.telemetry-span-misuse -- wrapper returns the tuple
            :telemetry.span(:checkout, %{}, fn -> {1, %{}} end)
          end
        end
        """
    )
    found = findings_for(l6_telemetry.TELEMETRY_SPAN, code)
    assert lines_of(found) == [3, 4, 5, 6]
    assert "already ends in `:start`" in found[0].message


def test_supervisor_restarts_unobserved():
    code = src(
        """
        defmodule Shop.Quiet do
          use Supervisor
          def init(_), do: Supervisor.init([Shop.Worker], strategy: :one_for_one)
        end

        defmodule Shop.Loud do
          use DynamicSupervisor
          require Logger
          def init(_) do
            Logger.info("starting workers")
            DynamicSupervisor.init(strategy: :one_for_one)
          end
        end

        defmodule Shop.Instrumented do
          use Supervisor
          def init(_), do: Shop.Telemetry.attach_restarts(__MODULE__)
        end

        defmodule ShopWeb.Telemetry do
          use Supervisor
          import Telemetry.Metrics
          def init(_), do: Supervisor.init([:telemetry_poller], strategy: :one_for_one)
          def metrics, do: [summary("phoenix.endpoint.stop.duration")]
        end

        defmodule Shop.Plain do
          use GenServer
        end

        defmodule Shop.Accepted do
          # ladder:disable-next-line L6.supervisor-restarts-unobserved -- restarts logged by SASL
          use Supervisor
        end
        """
    )
    found = findings_for(l6_telemetry.SUPERVISOR_RESTARTS, code)
    assert lines_of(found) == [2]
    assert "Shop.Quiet restarts its children" in found[0].message


# --- context functions ------------------------------------------------------------------------

CONTEXT = src(
    """
    defmodule Shop.Orders do
      require Logger

      def create_order(attrs) do
        %Order{} |> Order.changeset(attrs) |> Repo.insert()
      end

      def update_order(order, attrs), do: do_update(order, attrs)

      def delete_order(order) do
        result = Repo.delete(order)
        Logger.info("order deleted", order_id: order.id)
        result
      end

      def cancel(order) do
        :telemetry.span([:shop, :orders, :cancel], %{}, fn -> {persist(order), %{}} end)
      end

      def list_orders, do: Repo.all(Order)

      def bulk(list), do: Enum.map(list, &persist/1)

      # ladder:disable-next-line L6.context-unobserved -- admin maintenance function
      def purge, do: Repo.delete_all(Order)

      defp do_update(order, attrs), do: order |> Order.changeset(attrs) |> Shop.Repo.update()
      defp persist(order), do: Repo.update!(order)
    end
    """
)


def test_context_unobserved():
    rule = l6_context_observability.CONTEXT_UNOBSERVED
    found = findings_for(rule, CONTEXT, path="lib/shop/orders.ex")
    assert lines_of(found) == [4, 8, 22]
    assert "Shop.Orders.create_order/1 writes through Repo" in found[0].message
    assert findings_for(rule, CONTEXT, path="lib/shop_web/controllers/o.ex") == []
    assert findings_for(rule, CONTEXT, path="lib/shop.ex") == []


@pytest.mark.parametrize(
    "rule",
    [
        r
        for m in (
            l6_context_observability,
            l6_durations,
            l6_logging,
            l6_swallowed_errors,
            l6_telemetry,
        )
        for r in m.RULES
    ],
    ids=lambda r: r.id,
)
def test_l6_is_advisory_except_io_logging(rule):
    assert rule.level == 6
    expected = Severity.WARNING if rule.id == "L6.io-logging" else Severity.NOTICE
    assert rule.severity is expected
