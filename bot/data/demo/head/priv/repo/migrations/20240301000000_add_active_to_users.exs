defmodule Shop.Repo.Migrations.AddActiveToUsers do
  use Ecto.Migration

  def change do
    alter table(:users) do
      add :active, :boolean, default: true
      modify :name, :text
    end

    create index(:users, [:active])
  end
end
