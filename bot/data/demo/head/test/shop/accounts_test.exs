defmodule Shop.AccountsTest do
  use Shop.DataCase

  alias Shop.Accounts

  test "works" do
    Accounts.search("a")
  end

  test "fetch_user returns an error for an unknown id" do
    assert {:error, :not_found} = Accounts.fetch_user(-1)
  end
end
