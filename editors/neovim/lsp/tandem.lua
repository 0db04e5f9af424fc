-- Tandem for Neovim 0.11+'s `vim.lsp.config` runtimepath convention: with this plugin on the
-- runtimepath, `vim.lsp.enable('tandem')` is enough. `require('tandem').setup{}` adds the user
-- commands and layers its options over this.
return {
  cmd = { 'tandem', 'serve' },
  filetypes = { 'python' },
  root_markers = { 'tandem.toml', 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  init_options = vim.empty_dict(),
  settings = { tandem = vim.empty_dict() },
}
