/*
 * Shared by `children.c` and `flat.c`: the field of a child, read from tree-sitter's internal
 * field map (those files are compiled against tree-sitter's internal headers, see
 * `server/build.rs`).
 */
#ifndef TANDEM_TS_FIELDS_H
#define TANDEM_TS_FIELDS_H

#include "language.h"

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

#endif
