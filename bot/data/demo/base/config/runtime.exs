import Config

if config_env() == :prod do
  config :shop, Shop.Repo, url: System.fetch_env!("DATABASE_URL")
end
