Content-Length: 127

{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {"general": {"positionEncodings": ["utf-16"]}}}}Content-Length: 57

{"jsonrpc": "2.0", "method": "initialized", "params": {}}Content-Length: 345

{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///fuzz/doc0.py", "languageId": "python", "version": 1, "text": "class Cart:\n    \"\"\"A cart.\"\"\"\n\n    def add(self, item: str, n: int = 1) -> None:\n        self.items.append(item)\n\n\ndef total(cart):\n    return cart.add(\"😀é\", 2)\n"}}}Content-Length: 363

{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///fuzz/doc0.py", "version": 2}, "contentChanges": [{"range": {"start": {"line": 8, "character": 21}, "end": {"line": 8, "character": 22}}, "text": "x"}, {"range": {"start": {"line": 99, "character": 0}, "end": {"line": 99, "character": 5}}, "text": "\r\nz = 1\r"}]}}Content-Length: 129

{"jsonrpc": "2.0", "id": 2, "method": "textDocument/documentSymbol", "params": {"textDocument": {"uri": "file:///fuzz/doc0.py"}}}Content-Length: 242

{"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file:///fuzz/doc0.py"}, "range": {"start": {"line": 3, "character": 4}, "end": {"line": 4, "character": 0}}, "context": {"diagnostics": []}}}Content-Length: 177

{"jsonrpc": "2.0", "id": 4, "method": "textDocument/prepareCallHierarchy", "params": {"textDocument": {"uri": "file:///fuzz/doc0.py"}, "position": {"line": 8, "character": 16}}}Content-Length: 49

{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}Content-Length: 36

{"jsonrpc": "2.0", "method": "exit"}