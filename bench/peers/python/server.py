"""Benchmark peer for `oxmcp bench`: an MCP server on the official Python SDK.

It exposes one tool, `echo`, which returns its `message` argument as a single
text content item. In mcp 2.x the high-level server formerly called FastMCP is
`mcp.server.mcpserver.MCPServer`; its options are the same.

    python server.py --port PORT --mode stateful   Streamable HTTP at /mcp with
        sessions (Mcp-Session-Id) and SSE replies (the SDK defaults).
    python server.py --port PORT --mode stateless  Streamable HTTP at /mcp with
        stateless_http=True and json_response=True.
    python server.py --stdio                       newline-delimited JSON-RPC on
        stdin/stdout.

HTTP is served by uvicorn on 127.0.0.1. The log level is WARNING so that
uvicorn does not write an access-log line for every request.
"""

import argparse

from mcp.server.mcpserver import MCPServer

server = MCPServer("python-echo", log_level="WARNING")


@server.tool(structured_output=False)
def echo(message: str) -> str:
    """Returns its message argument unchanged."""
    return message


def main() -> None:
    parser = argparse.ArgumentParser(description="echo MCP server (Python SDK)")
    parser.add_argument("--stdio", action="store_true", help="serve on stdin/stdout")
    parser.add_argument("--port", type=int, help="HTTP port on 127.0.0.1")
    parser.add_argument("--mode", choices=["stateful", "stateless"], help="HTTP session mode")
    args = parser.parse_args()
    if args.stdio:
        server.run("stdio")
        return
    if args.port is None or args.mode is None:
        parser.error("give --stdio, or both --port and --mode")
    stateless = args.mode == "stateless"
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=args.port,
        stateless_http=stateless,
        json_response=stateless,
    )


if __name__ == "__main__":
    main()
