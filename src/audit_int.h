/*
 * What audit.c shares with the code service (serve.c) beyond the public audit.h: reading
 * audit entries from SQLite rows.  Private to the library.
 */
#ifndef VS_AUDIT_INT_H
#define VS_AUDIT_INT_H

#include <sqlite3.h>

#include "venuescan/audit.h"

/* The columns of an audit entry row, in the order vs_audit_entry_from_row reads them. */
#define VS_AUDIT_COLUMNS                                                                \
	"seq, ts, ts_offset, recorded_at, person_id, old_color, new_color, reason, "      \
	"authority, operator, justification, rule, hash"
#define VS_AUDIT_NCOLUMNS 13
#define VS_AUDIT_HASH_COLUMN 12

/*
 * Fill e from the current row of st, selected as VS_AUDIT_COLUMNS.  The strings borrow
 * from st (valid until its next step); a NULL text column reads as "".  Returns the index
 * of the first NULL column, or -1 when there is none.
 */
int vs_audit_entry_from_row(sqlite3_stmt *st, struct vs_audit_entry *e);

#endif
