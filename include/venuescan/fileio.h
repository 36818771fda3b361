/*
 * Files: reading whole inputs with a size limit, and writing outputs atomically.
 *
 * An output is written to a temporary name beside its destination and renamed into place
 * only by a successful commit, so a reader never sees half a file and a failed run leaves
 * nothing behind.  Uncommitted temporaries are removed on abort, at exit (including exit
 * from vs_xmalloc's out-of-memory path) and on SIGINT/SIGTERM/SIGHUP.  The same holds for
 * whole output folders (vs_outdir).  Builds with -DVS_FAULT_INJECTION make the Nth commit
 * fail when the environment has VS_FAULT_WRITE=N.
 */
#ifndef VENUESCAN_FILEIO_H
#define VENUESCAN_FILEIO_H

#include <stdio.h>
#include <sys/types.h>

#include "venuescan/mem.h"

/* Read all of path (or standard input for "-") into out, failing with VS_ETOOBIG past max. */
int vs_file_read_all(const char *path, size_t max, struct vs_buf *out);

/* An output file being written; owned by the caller until commit or abort frees it. */
struct vs_outfile;

/* Start writing path with the given mode (e.g. 0644, 0600); *out receives the handle. */
int vs_outfile_open(struct vs_outfile **out, const char *path, mode_t mode);
/* The stream to write to; owned by the outfile. */
FILE *vs_outfile_stream(struct vs_outfile *f);
/* Flush, fsync and rename into place; frees f whatever the outcome. */
int vs_outfile_commit(struct vs_outfile *f);
/* Remove the temporary and free f.  NULL is allowed. */
void vs_outfile_abort(struct vs_outfile *f);
/*
 * The temporary's name (owned by f), for a writer that must open the file by name itself
 * (SQLite): what it writes there is renamed into place by commit (which also fsyncs it)
 * and removed by abort, at exit and on a signal like the rest.  Write through either the
 * stream or the name, not both; close the name's writer before commit.
 */
const char *vs_outfile_temp_path(const struct vs_outfile *f);

/* Write len bytes to path atomically, with the given mode. */
int vs_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * An output folder being filled: files are written under vs_outdir_path() (a hidden
 * staging folder beside the destination) and the folder is renamed into place by commit.
 * An existing destination is replaced only if it is empty or holds a previous dataset
 * (a manifest.json); otherwise commit fails and the staging folder is removed.
 */
struct vs_outdir;

int vs_outdir_open(struct vs_outdir **out, const char *path);
const char *vs_outdir_path(const struct vs_outdir *d);
/*
 * Flush everything written under the staging folder to disk.  Files written inside an open
 * staging folder are not fsynced one by one; this (which commit calls) syncs them at once.
 */
int vs_outdir_sync(struct vs_outdir *d);
int vs_outdir_commit(struct vs_outdir *d);
void vs_outdir_abort(struct vs_outdir *d);

/* Remove a folder and everything under it (no error if it does not exist). */
int vs_remove_tree(const char *path);

#endif
