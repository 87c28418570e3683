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
  @spec fetch_user(integer()) :: {:ok, User.t()}
  def fetch_user(id) when is_integer(id) do
    case Repo.get(User, id) do
      nil -> {:error, :not_found}
      user -> {:ok, user}
    end
  end

  @doc """
  Registers a user from the sign-up form.
  """
  def register_user(attrs) do
    %User{}
    |> User.changeset(attrs)
    |> Repo.insert()
  end

  @doc """
  Finds users whose name starts with `prefix`.
  """
  @spec search(String.t()) :: [User.t()]
  def search(prefix) do
    Repo.query!("SELECT * FROM users WHERE name LIKE '#{prefix}%'")
  end

  def deactivate(user) do
    user
    |> User.changeset(%{active: false})
    |> Repo.update()
  end
end
