/*
 * The children of a syntax-tree node in one pass, for the walks in `analysis/` (see
 * `children.rs`). Compiled against the internal headers of the tree-sitter crate the build
 * links (its `src/` beside the `include/` it exports), so the node layout read here is that
 * library's own.
 *
 * A node's children are listed as a `TSTreeCursor` visits them: the visible children in order,
 * with the visible children of hidden (invisible) children in their place, recursively. With a
 * cursor that takes a call per step plus one to build each node; with `ts_node_named_child(i)`
 * each call walks the children from the first again. Here the parent's child array is read
 * once.
 */
#include <stdbool.h>
#include <stdint.h>

#include "tree_sitter/api.h"
#include "language.h"
#include "subtree.h"
#include "tree.h"

typedef struct {
  const TSTree *tree;
  const TSLanguage *language;
  bool named_only;
  TSSymbol skip;
  TSNode *out;
  uint32_t cap;
  uint32_t len;
  uint32_t max_depth;
  bool too_deep;
} Sink;

/* Lists the children of `parent` (which starts at `position`); `depth` is how many hidden nodes
 * deep it is. */
static void list(Sink *sink, Subtree parent, Length position, uint32_t depth) {
  uint32_t count = ts_subtree_child_count(parent);
  if (count == 0) return;
  if (depth > sink->max_depth) {
    sink->too_deep = true;
    return;
  }
  const TSSymbol *aliases = ts_language_alias_sequence(sink->language, parent.ptr->production_id);
  const Subtree *children = ts_subtree_children(parent);
  uint32_t structural = 0;
  for (uint32_t i = 0; i < count; i++) {
    const Subtree *child = &children[i];
    if (i > 0) position = length_add(position, ts_subtree_padding(*child));
    bool extra = ts_subtree_extra(*child);
    TSSymbol alias = 0;
    if (!extra) {
      if (aliases) alias = aliases[structural];
      structural++;
    }
    if (ts_subtree_visible(*child) || alias) {
      TSSymbol symbol = alias ? alias : ts_language_public_symbol(sink->language, ts_subtree_symbol(*child));
      bool named = alias ? ts_language_symbol_metadata(sink->language, alias).named
                         : ts_subtree_named(*child);
      if ((!sink->named_only || named) && symbol != sink->skip) {
        if (sink->len < sink->cap) sink->out[sink->len] = ts_node_new(sink->tree, child, position, alias);
        sink->len++;
      }
    } else if (ts_subtree_visible_child_count(*child) > 0) {
      list(sink, *child, position, depth + 1);
      if (sink->too_deep) return;
    }
    position = length_add(position, ts_subtree_size(*child));
  }
}

/*
 * Writes the children of `node` into `out`, at most `cap` of them, and returns how many there
 * are: named ones only when `named_only`, none whose symbol is `skip` (0 skips none). A return
 * above `cap` asks for a larger buffer.
 *
 * Hidden nodes are descended into by recursion, at most `max_depth` deep (tree-sitter
 * balances the hidden nodes of long repetitions, so real trees stay shallow): deeper, it
 * returns UINT32_MAX and the caller lists the children another way.
 */
uint32_t tandem_ts_children(TSNode node, bool named_only, TSSymbol skip, TSNode *out,
                            uint32_t cap, uint32_t max_depth) {
  if (!node.id || !node.tree) return 0;
  Sink sink = {
    .tree = node.tree,
    .language = node.tree->language,
    .named_only = named_only,
    .skip = skip,
    .out = out,
    .cap = cap,
    .len = 0,
    .max_depth = max_depth,
    .too_deep = false,
  };
  Length start = {node.context[0], {node.context[1], node.context[2]}};
  list(&sink, *(const Subtree *)node.id, start, 0);
  return sink.too_deep ? UINT32_MAX : sink.len;
}
