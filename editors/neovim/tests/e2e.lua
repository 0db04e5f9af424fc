-- Headless end-to-end test of the plugin against the real server, on every Neovim from 0.7:
--   nvim --headless -u NONE -i NONE -l? (0.7 has no -l) -> run through tests/run.sh
-- It copies examples/shop to a temporary folder, calls require('tandem').setup{}, and drives
-- the editor the way a user does: code actions through vim.lsp.buf.code_action() with
-- vim.ui.select answered by title, diagnostics from vim.diagnostic.
local api = vim.api

local failures = 0
local function log(msg)
  io.stdout:write(msg .. '\n')
end
local function check(cond, what)
  if cond then
    log('ok   ' .. what)
  else
    failures = failures + 1
    log('FAIL ' .. what)
  end
  return cond
end
local function wait(ms, pred, what)
  local ok = vim.wait(ms, pred, 50)
  if not ok then
    check(false, 'timed out waiting for ' .. what)
  end
  return ok
end

local repo = assert(os.getenv('TANDEM_REPO'), 'TANDEM_REPO')
local binary = assert(os.getenv('TANDEM_BIN'), 'TANDEM_BIN')
local work = vim.fn.tempname()
vim.fn.mkdir(work, 'p')
vim.fn.system({ 'cp', '-R', repo .. '/examples/shop/.', work })
assert(vim.v.shell_error == 0, 'copying examples/shop')

-- Neovim 0.7 prints window/showMessage to stderr without a newline; keep the log readable.
vim.lsp.handlers['window/showMessage'] = function(_, result)
  log('     server says: ' .. result.message)
end

vim.cmd('filetype on')
vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
local tandem = require('tandem')
tandem.setup({ binary = binary, settings = { docs = { style = 'google' } }, progress = false })

-- Answer vim.ui.select with the entry whose text is `title`.
local chosen
local function choose(title)
  chosen = nil
  vim.ui.select = function(items, opts, on_choice)
    local seen = {}
    for _, item in ipairs(items) do
      local text = opts.format_item and opts.format_item(item) or tostring(item)
      table.insert(seen, text)
      if text == title then
        chosen = text
        on_choice(item)
        return
      end
    end
    log('     menu: ' .. table.concat(seen, ' | '))
    on_choice(nil)
  end
end

local function lines(bufnr)
  return api.nvim_buf_get_lines(bufnr, 0, -1, false)
end
local function find_line(bufnr, needle)
  for i, l in ipairs(lines(bufnr)) do
    if l:find(needle, 1, true) then
      return i
    end
  end
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. work .. '/src/shop/cart.py')
  local bufnr = api.nvim_get_current_buf()
  check(vim.bo[bufnr].filetype == 'python', 'filetype python')
  wait(15000, function()
    local c = tandem.client(bufnr)
    return c ~= nil and c.initialized
  end, 'the tandem client to attach')
  local client = tandem.client(bufnr)
  check(client ~= nil, 'tandem client attached via setup{}')
  check(client and client.config.root_dir == work, 'root dir is the project (pyproject.toml)')

  -- 1. Generate docstring on the undocumented Cart.remove.
  local def = find_line(bufnr, 'def remove(')
  api.nvim_win_set_cursor(0, { def, 8 })
  choose('Generate docstring for `remove`')
  vim.lsp.buf.code_action()
  wait(5000, function()
    return chosen ~= nil
  end, 'the Generate docstring action in the menu')
  wait(10000, function()
    return (lines(bufnr)[def + 1] or ''):find('"""', 1, true) ~= nil
  end, 'the docstring to land')
  local l = lines(bufnr)
  check(l[def]:match('^    def remove%(self, sku: str, quantity: int | None = None%) %-> None:$') ~= nil, 'def line unchanged')
  check(l[def + 1]:match('^        """%S') ~= nil, 'docstring opens on the line after the def, indented 8: ' .. (l[def + 1] or ''))
  local close
  for i = def + 1, #l do
    if i > def + 1 and l[i]:find('"""', 1, true) then
      close = i
      break
    end
  end
  local doc = table.concat(l, '\n', def + 1, close or def + 1)
  check(doc:find('Args:', 1, true) and doc:find('sku (str)', 1, true), 'Args section names sku (str)')
  check(doc:find('Raises:', 1, true) and doc:find('CartError', 1, true), 'Raises section names CartError')
  check(close and l[close + 1] == '        line = self._lines.get(sku)', 'the body follows the docstring')

  -- 2. DOC102 on Cart.add arrives, with its quick fix.
  local add_doc = find_line(bufnr, 'price_override: Unit price')
  local diag
  wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.code == 'DOC102' then
        diag = d
        return true
      end
    end
  end, 'DOC102 diagnostic')
  check(diag ~= nil and diag.source == 'tandem', 'DOC102 from source tandem: ' .. (diag and diag.message or '?'))
  if diag then
    api.nvim_win_set_cursor(0, { diag.lnum + 1, diag.col })
    choose('Update docstring to match signature')
    vim.lsp.buf.code_action({ only = { 'quickfix' } })
    wait(5000, function()
      return chosen ~= nil
    end, 'the quick fix in the menu')
    wait(5000, function()
      return find_line(bufnr, 'price_override') == nil
    end, 'the quick fix to apply')
    l = lines(bufnr)
    local q = find_line(bufnr, 'quantity (int): How many units to add.')
    if not check(add_doc ~= nil and q ~= nil and l[q + 1] == '' and (l[q + 2] or ''):match('^%s+Returns:$') ~= nil, 'Args ends with quantity, then Returns') then
      log(table.concat(l, '\n', math.max(1, (add_doc or 1) - 8), math.min(#l, (add_doc or 1) + 10)))
    end
    wait(5000, function()
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        if d.code == 'DOC102' then
          return false
        end
      end
      return true
    end, 'DOC102 to go away')
  end

  -- 3. :TandemRuns shows the run history the server answers with (none yet: an empty list)
  -- in a scratch window, or the server's error as a notification.
  local shown
  local notify = vim.notify
  vim.notify = function(msg, level)
    if msg:find('Tandem:', 1, true) then
      shown = { msg = msg, level = level }
    end
  end
  local home = api.nvim_get_current_win()
  vim.cmd('TandemRuns')
  wait(5000, function()
    return shown ~= nil or api.nvim_buf_get_name(0):find('tandem://Runs', 1, true) ~= nil
  end, ':TandemRuns to answer')
  vim.notify = notify
  if shown then
    check(shown.level ~= vim.log.levels.ERROR, ':TandemRuns answered: ' .. shown.msg)
  else
    check(table.concat(lines(0), '\n'):find('{', 1, true) ~= nil, ':TandemRuns shows the history')
    vim.cmd('close')
  end
  api.nvim_set_current_win(home)

  -- 4. :TandemCallGraph lists callers and callees of Cart.add.
  api.nvim_win_set_cursor(0, { find_line(bufnr, 'def add('), 8 })
  vim.cmd('TandemCallGraph')
  wait(5000, function()
    return api.nvim_buf_get_name(0):find('call%-graph') ~= nil
  end, 'the call graph window')
  local graph = table.concat(lines(0), '\n')
  check(graph:find('Call graph of', 1, true) and graph:find('Callers', 1, true) and graph:find('Callees', 1, true), 'call graph rendered')
  vim.cmd('close')
end)

if not ok then
  failures = failures + 1
  log('FAIL error: ' .. tostring(err))
end
vim.fn.delete(work, 'rf')
if failures > 0 then
  log(('%d check(s) failed'):format(failures))
  vim.cmd('cquit 1')
else
  log('all checks passed')
  vim.cmd('qall!')
end
