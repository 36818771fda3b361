/*
 * Whole-file reads and atomic writes.  Every temporary this module creates is on one
 * registry until it is committed or aborted; an exit handler and a signal handler remove
 * whatever is still registered, which is what makes "no partial output" hold on every
 * path out of the program, including dying on allocation failure.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH/FTW_PHYS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"

#define MAX_TEMPS 256

struct temp_entry {
	char path[PATH_MAX];
	int is_dir;
	int used;
};

static struct temp_entry temps[MAX_TEMPS];
static pthread_mutex_t temps_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t temps_once = PTHREAD_ONCE_INIT;
/* Set once the process is exiting: no output may be committed after that. */
static int exiting;

/*
 * Remove a staging folder while other threads may still be writing into it (exit() from
 * one thread does not stop the others until the process ends): rename it first, so that
 * no new file can be created under its old name, then remove what is there, twice over
 * for files whose creation raced with the rename.
 */
static void remove_staging_dir(const char *path)
{
	char dead[PATH_MAX + 32];

	snprintf(dead, sizeof(dead), "%s.dead.%ld", path, (long)getpid());
	if (rename(path, dead) != 0)
		snprintf(dead, sizeof(dead), "%s", path);
	for (int attempt = 0; attempt < 3 && access(dead, F_OK) == 0; attempt++)
		vs_remove_tree(dead);
}

/*
 * Remove the tree below the open folder dirfd and then name itself in parent_fd, using
 * only async-signal-safe calls (no allocation: getdents64 into a stack buffer), so the
 * signal handler can remove a staging folder.  Depth is bounded; staging folders are
 * shallow.
 */
static void remove_tree_in_signal(int parent_fd, const char *name, int depth)
{
	char buf[4096];
	int fd;
	long n;

	if (depth > 8 || (fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC)) < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64_raw {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (struct dirent64_raw *)(void *)(buf + off);
			off += d->reclen;
			if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
				continue;
			if (d->type == DT_DIR)
				remove_tree_in_signal(fd, d->name, depth + 1);
			else
				unlinkat(fd, d->name, 0);
		}
	}
	close(fd);
	unlinkat(parent_fd, name, AT_REMOVEDIR);
}

/* remove_staging_dir for the signal handler: rename away, then remove, twice over. */
static void remove_staging_in_signal(const char *path)
{
	char dead[PATH_MAX + 8];
	size_t len = strlen(path);

	if (len + sizeof(".dead") > sizeof(dead))
		return;
	memcpy(dead, path, len);
	memcpy(dead + len, ".dead", sizeof(".dead"));
	if (rename(path, dead) != 0)
		memcpy(dead, path, len + 1);
	remove_tree_in_signal(AT_FDCWD, dead, 0);
	remove_tree_in_signal(AT_FDCWD, dead, 0);
}

static void remove_temps(int in_signal)
{
	for (int i = 0; i < MAX_TEMPS; i++) {
		if (!temps[i].used)
			continue;
		if (!temps[i].is_dir)
			unlink(temps[i].path);
		else if (!in_signal)
			remove_staging_dir(temps[i].path);
		else
			remove_staging_in_signal(temps[i].path);
		temps[i].used = 0;
	}
}

static void at_exit_cleanup(void)
{
	pthread_mutex_lock(&temps_lock);
	exiting = 1;
	remove_temps(0);
	pthread_mutex_unlock(&temps_lock);
}

/*
 * Rename a committed temporary into place and take it off the registry, unless the
 * process is exiting (then the exit handler removes it).  Atomic with respect to exit.
 */
static int commit_rename(int slot, const char *tmp, const char *path)
{
	int rc = 0;

	pthread_mutex_lock(&temps_lock);
	if (exiting)
		rc = vs_error_set(VS_EIO, "'%s': not written: the program is exiting", path);
	else if (rename(tmp, path) != 0)
		rc = vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
	else
		temps[slot].used = 0;
	pthread_mutex_unlock(&temps_lock);
	return rc;
}

static void on_signal(int sig)
{
	remove_temps(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	atexit(at_exit_cleanup);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa, old;

		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_DFL)
			continue; /* the program has its own handler (serve drains on SIGTERM) */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static int temp_register(const char *path, int is_dir)
{
	int slot = -1;

	pthread_once(&temps_once, install_handlers);
	pthread_mutex_lock(&temps_lock);
	for (int i = 0; i < MAX_TEMPS; i++) {
		if (!temps[i].used) {
			snprintf(temps[i].path, sizeof(temps[i].path), "%s", path);
			temps[i].is_dir = is_dir;
			temps[i].used = 1;
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&temps_lock);
	if (slot < 0)
		return vs_error_set(VS_ETOOBIG, "too many output files open at once");
	return slot;
}

static void temp_forget(int slot)
{
	if (slot < 0)
		return; /* already taken off by commit_rename */
	pthread_mutex_lock(&temps_lock);
	temps[slot].used = 0;
	pthread_mutex_unlock(&temps_lock);
}

#ifdef VS_FAULT_INJECTION
static int write_fault_now(void)
{
	static long countdown = -2;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int hit;

	pthread_mutex_lock(&lock);
	if (countdown == -2) {
		const char *env = getenv("VS_FAULT_WRITE");
		countdown = env && atol(env) > 0 ? atol(env) : -1;
	}
	hit = countdown > 0 && --countdown == 0;
	pthread_mutex_unlock(&lock);
	return hit;
}
#else
static int write_fault_now(void)
{
	return 0;
}
#endif

int vs_file_read_all(const char *path, size_t max, struct vs_buf *out)
{
	char chunk[65536];
	int fd, rc = 0;
	ssize_t n;

	vs_buf_init(out, max);
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return vs_error_set(errno == ENOENT ? VS_ENOTFOUND : VS_EIO, "'%s': %s", path,
				    strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
			break;
		}
		if ((rc = vs_buf_add(out, chunk, (size_t)n)) != 0) {
			vs_error_prefix("'%s'", path);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		vs_buf_release(out);
	else if (!out->data)
		vs_buf_add(out, "", 0);
	return rc;
}

struct vs_outfile {
	FILE *stream;
	char *path;
	char *tmp;
	mode_t mode;
	int slot;
	int in_staging; /* inside an open vs_outdir: synced once, when the folder is committed */
};

/* Is path inside a staging folder that is still open? */
static int inside_staging(const char *path)
{
	int inside = 0;

	pthread_mutex_lock(&temps_lock);
	for (int i = 0; i < MAX_TEMPS && !inside; i++) {
		size_t len = strlen(temps[i].path);
		inside = temps[i].used && temps[i].is_dir && !strncmp(path, temps[i].path, len) &&
			 path[len] == '/';
	}
	pthread_mutex_unlock(&temps_lock);
	return inside;
}

int vs_outfile_open(struct vs_outfile **out, const char *path, mode_t mode)
{
	struct vs_outfile *f;
	int fd, slot;

	*out = NULL;
	f = vs_xcalloc(1, sizeof(*f));
	f->path = vs_xstrdup(path);
	f->tmp = vs_xasprintf("%s.tmp.XXXXXX", path);
	f->mode = mode;
	f->in_staging = inside_staging(path);
	fd = mkostemp(f->tmp, O_CLOEXEC);
	if (fd < 0) {
		int rc = vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
		free(f->tmp);
		free(f->path);
		free(f);
		return rc;
	}
	slot = temp_register(f->tmp, 0);
	if (slot < 0 || fchmod(fd, mode) != 0 || !(f->stream = fdopen(fd, "w"))) {
		int rc = slot < 0 ? slot : vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
		close(fd);
		unlink(f->tmp);
		if (slot >= 0)
			temp_forget(slot);
		free(f->tmp);
		free(f->path);
		free(f);
		return rc;
	}
	f->slot = slot;
	*out = f;
	return 0;
}

FILE *vs_outfile_stream(struct vs_outfile *f)
{
	return f->stream;
}

const char *vs_outfile_temp_path(const struct vs_outfile *f)
{
	return f->tmp;
}

static void outfile_free(struct vs_outfile *f)
{
	temp_forget(f->slot);
	free(f->tmp);
	free(f->path);
	free(f);
}

int vs_outfile_commit(struct vs_outfile *f)
{
	int rc = 0;

	if (fflush(f->stream) != 0 || ferror(f->stream) || write_fault_now())
		rc = vs_error_set(VS_EIO, "'%s': write failed: %s", f->path,
				  errno ? strerror(errno) : "injected fault");
	else if (!f->in_staging && fsync(fileno(f->stream)) != 0 && errno != EINVAL)
		rc = vs_error_set(VS_EIO, "'%s': fsync failed: %s", f->path, strerror(errno));
	if (fclose(f->stream) != 0 && !rc)
		rc = vs_error_set(VS_EIO, "'%s': close failed: %s", f->path, strerror(errno));
	if (!rc && (rc = commit_rename(f->slot, f->tmp, f->path)) == 0)
		f->slot = -1;
	if (rc)
		unlink(f->tmp);
	outfile_free(f);
	return rc;
}

void vs_outfile_abort(struct vs_outfile *f)
{
	if (!f)
		return;
	fclose(f->stream);
	unlink(f->tmp);
	outfile_free(f);
}

int vs_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct vs_outfile *f;
	int rc = vs_outfile_open(&f, path, mode);

	if (rc)
		return rc;
	if (len && fwrite(data, 1, len, vs_outfile_stream(f)) != len) {
		rc = vs_error_set(VS_EIO, "'%s': write failed: %s", path, strerror(errno));
		vs_outfile_abort(f);
		return rc;
	}
	return vs_outfile_commit(f);
}

struct vs_outdir {
	char *path;
	char *tmp;
	int slot;
};

int vs_outdir_open(struct vs_outdir **out, const char *path)
{
	struct vs_outdir *d = vs_xcalloc(1, sizeof(*d));
	size_t len = strlen(path);
	char *parent_end;

	*out = NULL;
	while (len > 1 && path[len - 1] == '/')
		len--;
	d->path = vs_xstrndup(path, len);
	parent_end = strrchr(d->path, '/');
	if (parent_end)
		d->tmp = vs_xasprintf("%.*s/.%s.tmp.XXXXXX", (int)(parent_end - d->path), d->path,
				      parent_end + 1);
	else
		d->tmp = vs_xasprintf(".%s.tmp.XXXXXX", d->path);
	if (!mkdtemp(d->tmp)) {
		int rc = vs_error_set(VS_EIO, "'%s': cannot create output folder: %s", path,
				      strerror(errno));
		free(d->tmp);
		free(d->path);
		free(d);
		return rc;
	}
	chmod(d->tmp, 0755);
	d->slot = temp_register(d->tmp, 1);
	if (d->slot < 0) {
		int rc = d->slot;
		vs_remove_tree(d->tmp);
		free(d->tmp);
		free(d->path);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

const char *vs_outdir_path(const struct vs_outdir *d)
{
	return d->tmp;
}

static void outdir_free(struct vs_outdir *d)
{
	temp_forget(d->slot);
	free(d->tmp);
	free(d->path);
	free(d);
}

void vs_outdir_abort(struct vs_outdir *d)
{
	if (!d)
		return;
	vs_remove_tree(d->tmp);
	outdir_free(d);
}

/* An existing destination may be replaced if it is empty or is a previous output of ours. */
static int replaceable(const char *path)
{
	struct stat st;
	char *manifest;
	int ok;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? 1 : 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (rmdir(path) == 0)
		return 1;
	manifest = vs_xasprintf("%s/manifest.json", path);
	ok = access(manifest, F_OK) == 0;
	free(manifest);
	return ok;
}

int vs_outdir_sync(struct vs_outdir *d)
{
	int fd = open(d->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || syncfs(fd) != 0)
		rc = vs_error_set(VS_EIO, "'%s': cannot sync: %s", d->path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Make a rename in path's parent folder durable (no allocation: it runs after a commit). */
static void sync_parent(const char *path)
{
	char parent[PATH_MAX];
	char *slash;
	int fd;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	fd = open(slash ? (*parent ? parent : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int vs_outdir_commit(struct vs_outdir *d)
{
	int rc = 0;

	if ((rc = vs_outdir_sync(d)) != 0)
		;
	else if (write_fault_now())
		rc = vs_error_set(VS_EIO, "'%s': write failed: injected fault", d->path);
	else if (!replaceable(d->path))
		rc = vs_error_set(VS_EIO, "'%s': exists and is not an earlier venuescan output; "
					  "not replacing it", d->path);
	else if (vs_remove_tree(d->path) != 0)
		rc = vs_error_set(VS_EIO, "'%s': %s", d->path, strerror(errno));
	else if ((rc = commit_rename(d->slot, d->tmp, d->path)) == 0) {
		d->slot = -1;
		sync_parent(d->path);
	}
	if (rc)
		vs_remove_tree(d->tmp);
	outdir_free(d);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

int vs_remove_tree(const char *path)
{
	if (access(path, F_OK) != 0)
		return 0;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return vs_error_set(VS_EIO, "'%s': cannot remove: %s", path, strerror(errno));
	return 0;
}
