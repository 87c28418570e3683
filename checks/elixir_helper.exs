# Long-lived formatter helper for checks/formatter.py.
#
# Why a resident BEAM: starting `elixir` costs ~0.25-0.45 s, formatting a typical file ~2-20 ms, so
# the bot keeps one VM and streams files to it. Only `Code.string_to_quoted/2` and
# `Code.format_string!/2` touch the input: neither evaluates code, and nothing here calls Mix,
# reads files or opens sockets. Both create atoms that are never collected, so every response
# reports the atom count and the Python side recycles the VM before the table fills.
#
# Framing (all integers unsigned big-endian), on stdin/stdout in binary mode:
#
#   request  = <<len::32, payload::binary-size(len)>>
#   response = <<len::32, json::binary-size(len)>>
#
#   payload "V" (version) -> {"version": "1.14.0", "atom_count": N, "schedulers": N}
#
#   payload "C" (check a batch of files):
#     <<?C, timeout_ms::32, line_length::16, n_locals::16, local*, n_files::32, file*>>
#     local = <<name_len::16, name::binary, arity::8>>        arity 255 means "any arity" (:*)
#     file  = <<path_len::16, path::binary, src_len::32, src::binary>>
#   -> {"atom_count": N, "results": [result, ...]}   one result per file, in request order:
#      {"syntax_error": {"line": L, "column": C | null, "message": M}}
#      {"formatted": "...what mix format would write..."}
#      {"error": "timeout" | "crash: ..."}
#
# A request the helper cannot decode gets {"error": "bad request: ..."}. EOF on stdin exits 0.

defmodule Ladder.FormatterHelper do
  @moduledoc false

  @any_arity 255

  def main do
    # The default logger handler writes crash reports to stdout, which would corrupt the framing.
    :ok = :logger.set_primary_config(:level, :none)
    :ok = :io.setopts(:standard_io, binary: true, encoding: :latin1)
    {:ok, sup} = Task.Supervisor.start_link()
    loop(sup)
  end

  defp loop(sup) do
    with <<len::32-big>> <- IO.binread(:stdio, 4),
         payload when byte_size(payload) == len <- read_payload(len) do
      reply =
        try do
          handle(payload, sup)
        rescue
          e -> %{"error" => "bad request: " <> Exception.message(e)}
        end

      json = encode(reply)
      IO.binwrite(:stdio, [<<byte_size(json)::32-big>>, json])
      loop(sup)
    else
      _eof_or_truncated -> System.halt(0)
    end
  end

  defp read_payload(0), do: ""
  defp read_payload(len), do: IO.binread(:stdio, len)

  defp handle(<<?V>>, _sup) do
    %{
      "version" => System.version(),
      "atom_count" => :erlang.system_info(:atom_count),
      "schedulers" => System.schedulers_online()
    }
  end

  defp handle(<<?C, timeout_ms::32, line_length::16, n_locals::16, rest::binary>>, sup) do
    {locals, rest} = decode_locals(n_locals, rest, [])
    <<n_files::32, rest::binary>> = rest
    files = decode_files(n_files, rest, [])
    opts = [line_length: line_length, locals_without_parens: locals]

    # nolink: a task that crashes or is killed on timeout becomes a per-file result, not our exit.
    results =
      sup
      |> Task.Supervisor.async_stream_nolink(files, fn {path, src} -> check(path, src, opts) end,
        max_concurrency: System.schedulers_online(),
        timeout: timeout_ms,
        on_timeout: :kill_task,
        ordered: true
      )
      |> Enum.map(fn
        {:ok, result} -> result
        {:exit, :timeout} -> %{"error" => "timeout"}
        {:exit, reason} -> %{"error" => "crash: " <> Exception.format_exit(reason)}
      end)

    %{"atom_count" => :erlang.system_info(:atom_count), "results" => results}
  end

  defp decode_locals(0, rest, acc), do: {Enum.reverse(acc), rest}

  defp decode_locals(n, <<len::16, name::binary-size(len), arity::8, rest::binary>>, acc) do
    arity = if arity == @any_arity, do: :*, else: arity
    decode_locals(n - 1, rest, [{String.to_atom(name), arity} | acc])
  end

  defp decode_files(0, <<>>, acc), do: Enum.reverse(acc)

  defp decode_files(n, <<plen::16, path::binary-size(plen), slen::32, rest::binary>>, acc) do
    <<src::binary-size(slen), rest::binary>> = rest
    decode_files(n - 1, rest, [{path, src} | acc])
  end

  # Format first: on the common (valid) path the formatter's own parse is the only one. The
  # formatter parses with `unescape: false`, so it accepts bad `\x`/`\u` escapes that the
  # compiler rejects; only sources containing those pay for the second, authoritative parse.
  defp check(path, src, opts) do
    try do
      formatted = format(src, [file: path] ++ opts)

      if String.contains?(src, ["\\x", "\\u"]) do
        syntax_error(path, src) || %{"formatted" => formatted}
      else
        %{"formatted" => formatted}
      end
    rescue
      e -> syntax_error(path, src) || %{"error" => "crash: " <> Exception.message(e)}
    catch
      kind, reason -> %{"error" => "crash: " <> Exception.format_banner(kind, reason)}
    end
  end

  # What `mix format` writes: the formatted iodata plus a newline, or nothing for an empty file.
  defp format(src, opts) do
    case Code.format_string!(src, opts) do
      [] -> ""
      iodata -> IO.iodata_to_binary([iodata, ?\n])
    end
  end

  defp syntax_error(path, src) do
    case Code.string_to_quoted(src, file: path, columns: true, emit_warnings: false) do
      {:ok, _ast} ->
        nil

      {:error, {location, message, token}} ->
        {line, column} = location(location)

        %{
          "syntax_error" => %{
            "line" => line,
            "column" => column,
            "message" => message(message, text(token))
          }
        }
    end
  end

  defp location(line) when is_integer(line), do: {line, nil}
  defp location(meta) when is_list(meta), do: {Keyword.get(meta, :line, 1), meta[:column]}

  # 1.14 splits the message around the offending token: a prefix, or a {prefix, suffix} tuple.
  defp message({prefix, suffix}, token), do: text(prefix) <> token <> text(suffix)

  # The parser reports running out of input as "syntax error before: " with an empty token.
  defp message("syntax error before: ", ""), do: "syntax error: expression is incomplete"
  defp message(prefix, token), do: text(prefix) <> token

  defp text(value) when is_binary(value), do: value
  defp text(value) when is_list(value), do: List.to_string(value)
  defp text(value), do: inspect(value)

  # Minimal JSON encoder (Elixir 1.14 has no JSON module): what the replies above contain.
  defp encode(nil), do: "null"
  defp encode(true), do: "true"
  defp encode(false), do: "false"
  defp encode(n) when is_integer(n), do: Integer.to_string(n)
  defp encode(s) when is_binary(s), do: IO.iodata_to_binary([?", escape(s, s, 0, 0, []), ?"])

  defp encode(list) when is_list(list) do
    IO.iodata_to_binary([?[, Enum.map_join(list, ",", &encode/1), ?]])
  end

  defp encode(map) when is_map(map) do
    pairs = Enum.map_join(map, ",", fn {k, v} -> encode(to_string(k)) <> ":" <> encode(v) end)
    "{" <> pairs <> "}"
  end

  # Copies unescaped runs as slices of the original binary instead of byte by byte.
  defp escape(<<c, rest::binary>>, orig, skip, len, acc) when c < 0x20 or c == ?" or c == ?\\ do
    acc = [acc, binary_part(orig, skip, len), escape_char(c)]
    escape(rest, orig, skip + len + 1, 0, acc)
  end

  defp escape(<<_c, rest::binary>>, orig, skip, len, acc), do: escape(rest, orig, skip, len + 1, acc)
  defp escape(<<>>, orig, skip, len, acc), do: [acc, binary_part(orig, skip, len)]

  defp escape_char(?"), do: "\\\""
  defp escape_char(?\\), do: "\\\\"
  defp escape_char(?\n), do: "\\n"
  defp escape_char(?\t), do: "\\t"
  defp escape_char(c), do: "\\u00" <> Base.encode16(<<c>>)
end

Ladder.FormatterHelper.main()
