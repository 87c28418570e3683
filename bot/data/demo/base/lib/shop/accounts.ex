defmodule Shop.Accounts do
  @moduledoc """
  The accounts context: registering users and looking them up.
  """

  alias Shop.Accounts.User
  alias Shop.Repo

  @doc """
  Fetches a user by id.

      iex> Shop.Accounts.fetch_user(-1)
      {:error, :not_found}
  """
  @spec fetch_user(integer()) :: {:ok, User.t()} | {:error, :not_found}
  def fetch_user(id) when is_integer(id) do
    case Repo.get(User, id) do
      nil -> {:error, :not_found}
      user -> {:ok, user}
    end
  end
end
