-- Tandem for Neovim: registers `tandem serve` as the language server for Python buffers and adds
-- the :Tandem* commands. Works on Neovim 0.7 and later:
--   0.11+     vim.lsp.config + vim.lsp.enable (and lsp/tandem.lua on the runtimepath)
--   0.8-0.10  vim.lsp.start from a FileType autocmd
--   0.7       vim.lsp.start_client + vim.lsp.buf_attach_client from a FileType autocmd
local M = {}

local api = vim.api
local uv = vim.loop

M.defaults = {
  -- The `tandem` binary; `cmd` wins when given.
  binary = 'tandem',
  cmd = nil,
  filetypes = { 'python' },
  root_markers = { 'tandem.toml', 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  -- Client settings in the shape of tandem.toml (models, roles, docs, review, run, cache,
  -- workspace): sent as initialization options and answered to `workspace/configuration`.
  settings = {},
  -- TANDEM_LOG for the server (its log goes to Neovim's LSP log, :lua vim.cmd.edit(vim.lsp.get_log_path())).
  log_level = nil,
  -- Echo the server's `$/progress` (indexing, model runs) in the command line.
  progress = true,
  on_attach = nil,
  capabilities = nil,
}

M.config = vim.deepcopy(M.defaults)

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

local function notify(msg, level)
  vim.schedule(function()
    vim.notify(msg, level or vim.log.levels.INFO)
  end)
end

-- ---------------------------------------------------------------------------------------------
-- Registration

local function cmd()
  return M.config.cmd or { M.config.binary, 'serve' }
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

--- The nearest ancestor of `file` holding one of the root markers, else the file's folder.
function M.root_dir(file)
  local dir = vim.fn.fnamemodify(file, ':p:h')
  local start = dir
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if exists(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return start
    end
    dir = parent
  end
end

local progress_jobs = {} -- token -> { title, message, cancellable, client_id }

local function progress_handler(err, result, ctx, config)
  local default = vim.lsp.handlers['$/progress']
  if default then
    default(err, result, ctx, config)
  end
  if not result or not result.value then
    return
  end
  local token, value = result.token, result.value
  if value.kind == 'begin' then
    progress_jobs[token] = {
      title = value.title,
      message = value.message,
      cancellable = value.cancellable,
      client_id = ctx.client_id,
    }
  elseif value.kind == 'report' and progress_jobs[token] then
    progress_jobs[token].message = value.message or progress_jobs[token].message
    if value.cancellable ~= nil then
      progress_jobs[token].cancellable = value.cancellable
    end
  end
  local job = progress_jobs[token]
  if value.kind == 'end' then
    progress_jobs[token] = nil
  end
  if M.config.progress and job then
    local text = 'Tandem: ' .. job.title
    if value.kind == 'end' then
      text = text .. ' done' .. (value.message and (': ' .. value.message) or '')
    elseif job.message then
      text = text .. ' ' .. job.message
    end
    if value.percentage then
      text = text .. (' (%d%%)'):format(value.percentage)
    end
    vim.schedule(function()
      api.nvim_echo({ { text } }, false, {})
    end)
  end
end

--- The client configuration shared by every Neovim version.
function M.client_config()
  local env = nil
  if M.config.log_level then
    env = { TANDEM_LOG = 'tandem=' .. M.config.log_level }
  end
  local settings = M.config.settings or {}
  return {
    name = 'tandem',
    cmd = cmd(),
    cmd_env = env,
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = next(settings) and settings or vim.empty_dict(),
    -- Wrapped in `tandem`: what the server reads from a push, and the section it pulls.
    settings = { tandem = next(settings) and settings or vim.empty_dict() },
    handlers = { ['$/progress'] = progress_handler },
    on_attach = M.config.on_attach,
    capabilities = M.config.capabilities,
  }
end

local clients_by_root = {} -- 0.7: root dir -> client id

local function start_legacy(bufnr)
  local file = api.nvim_buf_get_name(bufnr)
  if file == '' then
    return
  end
  local config = M.client_config()
  config.root_dir = M.root_dir(file)
  config.workspace_folders = {
    { uri = vim.uri_from_fname(config.root_dir), name = vim.fn.fnamemodify(config.root_dir, ':t') },
  }
  if vim.lsp.start then
    vim.lsp.start(config, { bufnr = bufnr })
    return
  end
  local id = clients_by_root[config.root_dir]
  if not id or not vim.lsp.get_client_by_id(id) then
    if vim.fn.executable(config.cmd[1]) ~= 1 then
      return -- setup{} said so once
    end
    id = vim.lsp.start_client(config)
    clients_by_root[config.root_dir] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

--- Registers the server and the commands. Options: see `M.defaults`.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  local program = cmd()[1]
  if vim.fn.executable(program) ~= 1 then
    notify(
      ('Tandem: `%s` is not an executable, so the server cannot start. Install it with `cargo install --path server` from the Tandem repository, or pass `binary = "/path/to/tandem"` to require("tandem").setup{}'):format(
        program
      ),
      vim.log.levels.ERROR
    )
  end
  if vim.lsp.config and vim.lsp.enable and has('0.11') then
    local config = M.client_config()
    config.name = nil
    vim.lsp.config('tandem', config)
    vim.lsp.enable('tandem')
  else
    local group = api.nvim_create_augroup('tandem', { clear = true })
    api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = M.config.filetypes,
      callback = function(args)
        start_legacy(args.buf)
      end,
    })
    -- Buffers opened before setup ran.
    for _, bufnr in ipairs(api.nvim_list_bufs()) do
      if api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
        start_legacy(bufnr)
      end
    end
  end
  require('tandem.commands').register()
end

-- ---------------------------------------------------------------------------------------------
-- Helpers shared with the commands

--- The tandem client attached to a buffer.
function M.client(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = 'tandem' })[1]
  end
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == 'tandem' then
      return client
    end
  end
  return nil
end

function M.request(client, method, params, handler, bufnr)
  if has('0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify_server(client, method, params)
  if has('0.11') then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Running jobs the server reported with a cancellable `$/progress`.
function M.cancellable_jobs()
  local out = {}
  for token, job in pairs(progress_jobs) do
    if job.cancellable then
      table.insert(out, { token = token, title = job.title, message = job.message, client_id = job.client_id })
    end
  end
  return out
end

M.notify = notify
M.has = has

return M
