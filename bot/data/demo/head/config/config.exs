import Config

config :shop, ShopWeb.Endpoint,
  url: [host: "localhost"],
  secret_key_base: "cGhhbnRvbS1zZWNyZXQta2V5LWJhc2UtZm9yLWRldmVsb3BtZW50LW9ubHk="

config :shop, ecto_repos: [Shop.Repo]
