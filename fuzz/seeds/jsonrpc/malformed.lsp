Content-Length: 127

{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {"general": {"positionEncodings": ["utf-16"]}}}}Content-Length: 9

{bad jsonContent-Length: 36

{"jsonrpc":"2.0","id":7,"params":{}}Content-Length: x

X-Foo: 1

Content-Length: 35

[{"jsonrpc":"2.0","method":"exit"}]Content-Length: 126

{"jsonrpc": "2.0", "id": "s", "method": "textDocument/documentSymbol", "params": {"textDocument": {"uri": "file:///nope.py"}}}Content-Length: 81

{"jsonrpc": "2.0", "id": 9, "method": "textDocument/documentSymbol", "params": 7}