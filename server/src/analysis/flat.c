/*
 * A syntax tree copied into one flat array in one pass, for the walks in `analysis/` (see
 * `flat.rs`). Compiled, like `children.c`, against the internal headers of the tree-sitter
 * library the build links, so the subtree layout read here is that library's own.
 *
 * Every visible node becomes one entry: its kind, field, flags and byte range, its parent, and
 * where its children are. The children of a node are the nodes a `TSTreeCursor` visits below
 * it (visible children in order, those of hidden children in their place, with the field a
 * cursor reports), and they are stored next to each other: a node's children are appended
 * when its turn comes, depth first (a node's first child next, while what listing it read is
 * still in the cache). Hidden nodes are descended into with an explicit stack, and the nodes
 * waiting for their turn are on another, so no input nests the C stack.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tree_sitter/api.h"
#include "language.h"
#include "subtree.h"
#include "tree.h"

typedef struct {
  uint32_t start_byte;
  uint32_t end_byte;
  uint32_t parent;
  uint32_t first_child;
  uint32_t child_count;
  uint16_t kind;
  uint16_t field;
  uint32_t flags;
} TandemFlatNode;

enum {
  FLAT_NAMED = 1,
  FLAT_EXTRA = 2,
  FLAT_MISSING = 4,
  FLAT_HAS_ERROR = 8,
};

/* Where a node's subtree is, to list its children when its turn comes. */
typedef struct {
  Subtree subtree;
  uint32_t start_byte;
} Source;

/* A hidden node being listed in place of its parent's children. */
typedef struct {
  const Subtree *children;
  const TSSymbol *aliases;
  uint32_t count;
  uint32_t index;
  uint32_t structural;
  uint32_t production_id;
  uint32_t position;
  TSFieldId outer_field;
} Frame;

typedef struct {
  const TSLanguage *language;
  TandemFlatNode *nodes;
  Source *sources;
  uint32_t len;
  uint32_t cap;
  Frame *frames;
  uint32_t frames_cap;
  /* Nodes whose children are still to be listed, the next one last. */
  uint32_t *pending;
  uint32_t pending_len;
  uint32_t pending_cap;
  bool failed;
} Builder;

/* The field a child at `structural_index` of a node of production `production_id` has, 0 if
 * none (as `ts_tree_cursor_current_field_id` reads the field map: inherited entries skipped). */
static inline TSFieldId field_of(const TSLanguage *language, uint32_t production_id,
                                 uint32_t structural_index) {
  const TSFieldMapEntry *map, *end;
  ts_language_field_map(language, production_id, &map, &end);
  for (; map < end; map++) {
    if (!map->inherited && map->child_index == structural_index) return map->field_id;
  }
  return 0;
}

static bool grow(Builder *b) {
  uint32_t cap = b->cap ? b->cap * 2 : 64;
  TandemFlatNode *nodes = realloc(b->nodes, (size_t)cap * sizeof(TandemFlatNode));
  if (!nodes) return false;
  b->nodes = nodes;
  Source *sources = realloc(b->sources, (size_t)cap * sizeof(Source));
  if (!sources) return false;
  b->sources = sources;
  b->cap = cap;
  return true;
}

static void emit(Builder *b, Subtree subtree, uint32_t position, TSSymbol alias, TSFieldId field,
                 uint32_t parent) {
  if (b->len == b->cap && !grow(b)) {
    b->failed = true;
    return;
  }
  TSSymbol symbol = alias ? alias : ts_subtree_symbol(subtree);
  bool named = alias ? ts_language_symbol_metadata(b->language, alias).named
                     : ts_subtree_named(subtree);
  uint32_t flags = (named ? FLAT_NAMED : 0) | (ts_subtree_extra(subtree) ? FLAT_EXTRA : 0) |
                   (ts_subtree_missing(subtree) ? FLAT_MISSING : 0) |
                   (ts_subtree_error_cost(subtree) > 0 ? FLAT_HAS_ERROR : 0);
  TandemFlatNode *n = &b->nodes[b->len];
  n->start_byte = position;
  n->end_byte = position + ts_subtree_size(subtree).bytes;
  n->parent = parent;
  n->first_child = 0;
  n->child_count = 0;
  n->kind = ts_language_public_symbol(b->language, symbol);
  n->field = field;
  n->flags = flags;
  b->sources[b->len].subtree = subtree;
  b->sources[b->len].start_byte = position;
  b->len++;
}

static bool push_frame(Builder *b, uint32_t *depth, Subtree parent, uint32_t position,
                       TSFieldId outer_field) {
  if (*depth == b->frames_cap) {
    uint32_t cap = b->frames_cap ? b->frames_cap * 2 : 16;
    Frame *frames = realloc(b->frames, (size_t)cap * sizeof(Frame));
    if (!frames) return false;
    b->frames = frames;
    b->frames_cap = cap;
  }
  Frame *f = &b->frames[(*depth)++];
  f->children = ts_subtree_children(parent);
  f->aliases = ts_language_alias_sequence(b->language, parent.ptr->production_id);
  f->count = ts_subtree_child_count(parent);
  f->index = 0;
  f->structural = 0;
  f->production_id = parent.ptr->production_id;
  f->position = position;
  f->outer_field = outer_field;
  return true;
}

/* Appends the children of node `index` and records where they are. */
static void list_children(Builder *b, uint32_t index) {
  Subtree parent = b->sources[index].subtree;
  uint32_t first = b->len;
  if (ts_subtree_child_count(parent) > 0) {
    uint32_t depth = 0;
    if (!push_frame(b, &depth, parent, b->sources[index].start_byte, 0)) {
      b->failed = true;
      return;
    }
    while (depth > 0) {
      Frame *f = &b->frames[depth - 1];
      if (f->index >= f->count) {
        depth--;
        continue;
      }
      const Subtree *child = &f->children[f->index];
      /* The heap data of the children ahead are read next: ask for them early. */
      if (f->index + 2 < f->count && !f->children[f->index + 2].data.is_inline)
        __builtin_prefetch(f->children[f->index + 2].ptr);
      if (f->index > 0) f->position += ts_subtree_padding(*child).bytes;
      uint32_t position = f->position;
      bool extra = ts_subtree_extra(*child);
      TSSymbol alias = 0;
      TSFieldId field = 0;
      if (!extra) {
        if (f->aliases) alias = f->aliases[f->structural];
        field = field_of(b->language, f->production_id, f->structural);
        if (!field) field = f->outer_field;
        f->structural++;
      }
      f->position += ts_subtree_size(*child).bytes;
      f->index++;
      if (ts_subtree_visible(*child) || alias) {
        emit(b, *child, position, alias, field, index);
        if (b->failed) return;
      } else if (ts_subtree_visible_child_count(*child) > 0) {
        /* `f` is not used after this: the push may move the frames. */
        if (!push_frame(b, &depth, *child, position, extra ? 0 : field)) {
          b->failed = true;
          return;
        }
      }
    }
  }
  b->nodes[index].first_child = first;
  b->nodes[index].child_count = b->len - first;
  /* Depth first, first child next: its subtree was read just now, while listing it. */
  uint32_t need = b->pending_len + (b->len - first);
  if (need > b->pending_cap) {
    uint32_t cap = b->pending_cap ? b->pending_cap : 64;
    while (cap < need) cap *= 2;
    uint32_t *pending = realloc(b->pending, (size_t)cap * sizeof(uint32_t));
    if (!pending) {
      b->failed = true;
      return;
    }
    b->pending = pending;
    b->pending_cap = cap;
  }
  for (uint32_t i = b->len; i > first; i--) {
    if (ts_subtree_child_count(b->sources[i - 1].subtree) > 0) b->pending[b->pending_len++] = i - 1;
  }
}

/*
 * Flattens the tree below `root` (itself included, at index 0). Returns the number of nodes
 * and sets `*out` to an array of them that `tandem_ts_flat_free` releases; returns 0 (and
 * sets `*out` to NULL) if memory ran out.
 */
uint32_t tandem_ts_flatten(TSNode root, TandemFlatNode **out) {
  *out = NULL;
  if (!root.id || !root.tree) return 0;
  Builder b = {
    .language = root.tree->language,
    .nodes = NULL,
    .sources = NULL,
    .len = 0,
    .cap = 0,
    .frames = NULL,
    .frames_cap = 0,
    .pending = NULL,
    .pending_len = 0,
    .pending_cap = 0,
    .failed = false,
  };
  uint32_t expected = ts_node_descendant_count(root) + 1;
  b.cap = expected < 16 ? 16 : expected;
  b.nodes = malloc((size_t)b.cap * sizeof(TandemFlatNode));
  b.sources = malloc((size_t)b.cap * sizeof(Source));
  if (!b.nodes || !b.sources) b.failed = true;
  if (!b.failed) {
    emit(&b, *(const Subtree *)root.id, root.context[0], (TSSymbol)root.context[3], 0, UINT32_MAX);
  }
  if (!b.failed) list_children(&b, 0);
  while (!b.failed && b.pending_len > 0) list_children(&b, b.pending[--b.pending_len]);
  free(b.sources);
  free(b.frames);
  free(b.pending);
  if (b.failed) {
    free(b.nodes);
    return 0;
  }
  *out = b.nodes;
  return b.len;
}

void tandem_ts_flat_free(TandemFlatNode *nodes) { free(nodes); }
