-- setup{} with a binary that does not exist: one error notification naming the fix, no crash.
local messages = {}
vim.notify = function(msg, level)
  table.insert(messages, { msg = msg, level = level })
end
vim.opt.runtimepath:prepend(os.getenv('TANDEM_REPO') .. '/editors/neovim')
vim.cmd('filetype on')
require('tandem').setup({ binary = '/nonexistent/tandem' })
vim.cmd('edit ' .. os.getenv('TANDEM_REPO') .. '/examples/shop/src/shop/cart.py')
vim.wait(500, function()
  return #messages > 0
end)
local errors = vim.tbl_filter(function(m)
  return m.level == vim.log.levels.ERROR and m.msg:find('cargo install --path server', 1, true) ~= nil
end, messages)
if #errors == 1 and #messages == 1 then
  io.stdout:write('ok   a missing binary gives one error with the fix: ' .. errors[1].msg .. '\n')
  vim.cmd('qall!')
else
  io.stdout:write('FAIL missing binary: ' .. vim.inspect(messages) .. '\n')
  vim.cmd('cquit 1')
end
