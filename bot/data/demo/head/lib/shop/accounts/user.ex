defmodule Shop.Accounts.User do
  @moduledoc """
  A registered user of the shop.
  """
  use Ecto.Schema
  import Ecto.Changeset

  schema "users" do
    field :name, :string
    field :email, :string
    field :active, :boolean, default: true

    timestamps()
  end

  @doc """
  Validates sign-up and profile changes.
  """
  @spec changeset(t() | Ecto.Changeset.t(), map()) :: Ecto.Changeset.t()
  def changeset(user, attrs) do
    user
    |> cast(attrs, [:name, :email, :active])
    |> validate_required([:name, :email])
    |> unique_constraint(:email)
  end
end
