defmodule ShopWeb.UserController do
  use ShopWeb, :controller

  alias Shop.Accounts

  def show(conn, %{"id" => id}) do
    case Accounts.fetch_user(String.to_integer(id)) do
      {:ok, user} -> render(conn, :show, user: user)
      {:error, _} -> send_resp(conn, 404, "")
    end
  end

  def export(conn, %{"format" => format}) do
    IO.inspect(format)
    send_download(conn, {:file, "exports/users." <> format})
  end
end
