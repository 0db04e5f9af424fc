-- The :Tandem* user commands. Each one sends the server the same `workspace/executeCommand`
-- request as the VS Code extension (docs/editors.md), or reads the call hierarchy / runs
-- `tandem context`, and shows the server's answer or its error as it is.
local M = {}

local api = vim.api
local tandem = require('tandem')

local commands = {
  plan = 'tandem.plan',
  execute_plan = 'tandem.executePlan',
  implement = 'tandem.implement',
  review = 'tandem.review',
  document = 'tandem.document',
  runs = 'tandem.runs',
  cancel = 'tandem.cancel',
}
M.server_commands = commands

--- The LSP `character` of byte column `col` of `line` in the client's position encoding.
local function character(line, col, encoding)
  if encoding == 'utf-8' then
    return col
  end
  if tandem.has('0.11') then
    return vim.str_utfindex(line, encoding == 'utf-32' and 'utf-32' or 'utf-16', col, false)
  end
  local utf32, utf16 = vim.str_utfindex(line, col)
  return encoding == 'utf-32' and utf32 or utf16
end

local function line_text(bufnr, row)
  return api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

local function cursor_position(client, bufnr)
  local row, col = unpack(api.nvim_win_get_cursor(0))
  return { line = row - 1, character = character(line_text(bufnr, row - 1), col, client.offset_encoding) }
end

--- Whole lines `line1`..`line2` (1-based, inclusive) as an LSP range.
local function lines_range(client, bufnr, line1, line2)
  local last = line_text(bufnr, line2 - 1)
  return {
    start = { line = line1 - 1, character = 0 },
    ['end'] = { line = line2 - 1, character = character(last, #last, client.offset_encoding) },
  }
end

--- A scratch buffer in a split, for results, the call graph and the context block.
local function show_scratch(name, lines, filetype)
  vim.cmd('botright new')
  local bufnr = api.nvim_get_current_buf()
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].bufhidden = 'wipe'
  vim.bo[bufnr].swapfile = false
  pcall(api.nvim_buf_set_name, bufnr, name)
  api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  if filetype then
    vim.bo[bufnr].filetype = filetype
  end
  return bufnr
end

local function show_result(title, result)
  if result == nil or result == vim.NIL then
    return
  end
  if type(result) == 'string' then
    if result:find('\n') then
      show_scratch('tandem://' .. title, vim.split(result, '\n'), 'markdown')
    else
      tandem.notify('Tandem: ' .. result)
    end
    return
  end
  show_scratch('tandem://' .. title, vim.split(vim.inspect(result), '\n'), 'lua')
end

--- The message shown for a server error: the server's own words, whole.
function M.error_message(title, command, err)
  local text = type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
  return ('Tandem: %s failed: the server answered %s with: %s'):format(title, command, text)
end

local function attached(bufnr)
  local client = tandem.client(bufnr)
  if not client then
    tandem.notify(
      'Tandem: no tandem server is attached to this buffer (open a Python file; see :LspInfo or :checkhealth lsp)',
      vim.log.levels.ERROR
    )
  end
  return client
end

--- Sends `workspace/executeCommand` and shows the answer. `build(client, bufnr)` returns the
--- arguments.
function M.execute(title, command, build, on_result)
  local bufnr = api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  local args = build and build(client, bufnr) or {}
  tandem.request(client, 'workspace/executeCommand', { command = command, arguments = args }, function(err, result)
    if err then
      tandem.notify(M.error_message(title, command, err), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    else
      show_result(title, result)
    end
  end, bufnr)
end

local function uri(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

--- The range of a command given one (`:'<,'>TandemReview`), else nil.
local function given_range(opts)
  if opts.range and opts.range > 0 then
    return { opts.line1, opts.line2 }
  end
  return nil
end

local function plan(opts)
  local bufnr = api.nvim_get_current_buf()
  local range = given_range(opts)
  local function send(request)
    if not request or vim.trim(request) == '' then
      return
    end
    M.execute('Plan', commands.plan, function(client)
      local args = { request = vim.trim(request) }
      if vim.bo[bufnr].filetype == 'python' then
        args.uri = uri(bufnr)
        if range then
          args.range = lines_range(client, bufnr, range[1], range[2])
        end
      end
      return { args }
    end)
  end
  if opts.args ~= '' then
    send(opts.args)
  else
    vim.ui.input({ prompt = range and 'Tandem plan (selection is the focus): ' or 'Tandem plan: ' }, send)
  end
end

--- The plan id of a `.tandem/plans/<id>.md` file.
function M.plan_id(path)
  return path:match('[\\/]%.tandem[\\/]plans[\\/]([^\\/]+)%.md$')
end

local function execute_plan(opts)
  local function send(id)
    if not id or vim.trim(id) == '' then
      return
    end
    M.execute('Execute plan', commands.execute_plan, function()
      return { { planId = vim.trim(id) } }
    end)
  end
  local id = opts.args ~= '' and opts.args or M.plan_id(api.nvim_buf_get_name(0))
  if id then
    send(id)
  else
    vim.ui.input({ prompt = 'Tandem plan id: ' }, send)
  end
end

local function implement()
  M.execute('Implement', commands.implement, function(client, bufnr)
    local pos = cursor_position(client, bufnr)
    return { { uri = uri(bufnr), range = { start = pos, ['end'] = pos } } }
  end)
end

local function review(opts)
  local range = given_range(opts)
  M.execute('Review', commands.review, function(client, bufnr)
    local args = { uri = uri(bufnr) }
    if range then
      args.range = lines_range(client, bufnr, range[1], range[2])
    end
    return { args }
  end)
end

local function document(opts)
  local range = given_range(opts)
  M.execute('Document', commands.document, function(client, bufnr)
    local args = { uri = uri(bufnr) }
    if range then
      args.range = lines_range(client, bufnr, range[1], range[2])
    end
    return { args }
  end)
end

local function relative(item_uri, root)
  local file = vim.uri_to_fname(item_uri)
  if root and file:sub(1, #root + 1) == root .. '/' then
    file = file:sub(#root + 2)
  end
  return file
end

--- Callers and callees of the function at the cursor, from the server's call hierarchy.
local function call_graph()
  local bufnr = api.nvim_get_current_buf()
  local client = attached(bufnr)
  if not client then
    return
  end
  local params = { textDocument = { uri = uri(bufnr) }, position = cursor_position(client, bufnr) }
  tandem.request(client, 'textDocument/prepareCallHierarchy', params, function(err, items)
    if err then
      tandem.notify(M.error_message('Call graph', 'textDocument/prepareCallHierarchy', err), vim.log.levels.ERROR)
      return
    end
    if not items or items == vim.NIL or #items == 0 then
      tandem.notify('Tandem: no function or call at the cursor')
      return
    end
    local item = items[1]
    local lines, targets = {}, {}
    local root = client.root_dir or client.config.root_dir
    local function add(text, target)
      table.insert(lines, text)
      targets[#lines] = target
    end
    -- Rows of "file:line  name", the locations padded to one width.
    local function add_rows(rows)
      local width = 0
      for _, row in ipairs(rows) do
        width = math.max(width, #row.where)
      end
      for _, row in ipairs(rows) do
        add(('  %-' .. width .. 's  %s'):format(row.where, row.name), row.target)
      end
    end
    local function row(name, item_uri, range)
      return {
        where = ('%s:%d'):format(relative(item_uri, root), range.start.line + 1),
        name = name,
        target = { uri = item_uri, range = range },
      }
    end
    local pending = 2
    local incoming, outgoing = {}, {}
    local function render()
      add(('Call graph of %s  (%s:%d)'):format(item.detail or item.name, relative(item.uri, root), item.selectionRange.start.line + 1), { uri = item.uri, range = item.selectionRange })
      add('')
      add(('Callers (%d)'):format(#incoming))
      local rows = {}
      for _, call in ipairs(incoming) do
        local range = (call.fromRanges and call.fromRanges[1]) or call.from.selectionRange
        table.insert(rows, row(call.from.detail or call.from.name, call.from.uri, range))
      end
      add_rows(rows)
      add('')
      add(('Callees (%d)'):format(#outgoing))
      rows = {}
      for _, call in ipairs(outgoing) do
        table.insert(rows, row(call.to.detail or call.to.name, call.to.uri, call.to.selectionRange))
      end
      add_rows(rows)
      add('')
      add('<CR> jumps to the line under the cursor')
      local scratch = show_scratch('tandem://call-graph', lines, nil)
      local encoding = client.offset_encoding
      vim.keymap.set('n', '<CR>', function()
        local target = targets[api.nvim_win_get_cursor(0)[1]]
        if target then
          vim.cmd('wincmd p')
          if vim.lsp.util.show_document then
            vim.lsp.util.show_document(target, encoding, { focus = true })
          else
            vim.lsp.util.jump_to_location(target, encoding)
          end
        end
      end, { buffer = scratch })
    end
    local function done()
      pending = pending - 1
      if pending == 0 then
        vim.schedule(render)
      end
    end
    tandem.request(client, 'callHierarchy/incomingCalls', { item = item }, function(e, r)
      incoming = (not e and r ~= vim.NIL and r) or {}
      done()
    end, bufnr)
    tandem.request(client, 'callHierarchy/outgoingCalls', { item = item }, function(e, r)
      outgoing = (not e and r ~= vim.NIL and r) or {}
      done()
    end, bufnr)
  end, bufnr)
end

--- `tandem context FILE:LINE`: the context block a model request about the cursor carries.
local function context()
  local bufnr = api.nvim_get_current_buf()
  local file = api.nvim_buf_get_name(bufnr)
  if file == '' then
    tandem.notify('Tandem: the buffer has no file', vim.log.levels.ERROR)
    return
  end
  if vim.bo[bufnr].modified then
    tandem.notify('Tandem: :TandemContext reads the file from disk; write the buffer to include your changes', vim.log.levels.WARN)
  end
  local client = tandem.client(bufnr)
  local root = client and (client.root_dir or client.config.root_dir) or tandem.root_dir(file)
  local line = api.nvim_win_get_cursor(0)[1]
  local binary = (tandem.config.cmd or { tandem.config.binary })[1]
  local argv = { binary, '--workspace', root, 'context', ('%s:%d'):format(file, line) }
  local out, err = {}, {}
  local ok, job = pcall(vim.fn.jobstart, argv, {
    cwd = root,
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      out = data
    end,
    on_stderr = function(_, data)
      err = data
    end,
    on_exit = function(_, code)
      vim.schedule(function()
        if code ~= 0 then
          tandem.notify('Tandem: tandem context failed: ' .. table.concat(err, '\n'), vim.log.levels.ERROR)
          return
        end
        if out[#out] == '' then
          table.remove(out)
        end
        show_scratch(('tandem://context/%s:%d'):format(vim.fn.fnamemodify(file, ':t'), line), out, 'markdown')
      end)
    end,
  })
  if not ok or job <= 0 then
    tandem.notify(('Tandem: cannot run %s (set `binary` in setup)'):format(binary), vim.log.levels.ERROR)
  end
end

local function runs()
  M.execute('Runs', commands.runs, function()
    return {}
  end)
end

--- Cancels the model run the server shows a cancellable progress for (what it supports
--- today); with none, asks the server's `tandem.cancel`.
local function cancel(opts)
  local jobs = tandem.cancellable_jobs()
  local function send(job)
    if not job then
      return
    end
    local client = vim.lsp.get_client_by_id(job.client_id)
    if client then
      tandem.notify_server(client, 'window/workDoneProgress/cancel', { token = job.token })
      tandem.notify('Tandem: cancelling ' .. job.title)
    end
  end
  if #jobs == 1 then
    send(jobs[1])
  elseif #jobs > 1 then
    vim.ui.select(jobs, {
      prompt = 'Cancel which Tandem job?',
      format_item = function(job)
        return job.title .. (job.message and (' ' .. job.message) or '')
      end,
    }, send)
  else
    M.execute('Cancel', commands.cancel, function()
      return opts.args ~= '' and { { runId = opts.args } } or {}
    end)
  end
end

function M.register()
  local create = api.nvim_create_user_command
  create('TandemPlan', plan, { nargs = '*', range = true, desc = 'Tandem: plan a change (selection = focus)' })
  create('TandemExecute', execute_plan, { nargs = '?', desc = 'Tandem: execute a plan (the open plan file, or an id)' })
  create('TandemImplement', implement, { desc = 'Tandem: implement the function at the cursor' })
  create('TandemReview', review, { range = true, desc = 'Tandem: review the file, or the selected lines' })
  create('TandemDocument', document, { range = true, desc = 'Tandem: document the file, or the symbol in the selected lines' })
  create('TandemCallGraph', call_graph, { desc = 'Tandem: callers and callees of the function at the cursor' })
  create('TandemContext', context, { desc = 'Tandem: the context block for the cursor (tandem context)' })
  create('TandemRuns', runs, { desc = 'Tandem: the run history' })
  create('TandemCancel', cancel, { nargs = '?', desc = 'Tandem: cancel the running job' })
end

return M
