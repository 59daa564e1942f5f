/* The floor for a first sync: fetch every message body over one plain IMAP connection
 * and throw it away, or write it into a Maildir.
 *
 *   floor [-m MAILDIR] HOST PORT USER PASSWORD FOLDER...
 *
 * LOGIN, then per folder EXAMINE and "UID FETCH 1:* BODY.PEEK[]", reading the responses
 * as fast as they come (literals are skipped by count, not scanned). Prints
 * "<messages> <bytes>" on success; exit status 1 with a message on stderr otherwise.
 * Built by bench.py with "cc -O2"; no TLS, no pipelining tricks: the least work a tool
 * must do to download everything.
 *
 * With -m, each body is also written as it comes, unchanged (no CRLF conversion, no
 * parsing), into MAILDIR/<folder>/tmp/, and the files are made durable the way a safe
 * tool must before it records them: per batch of BATCH files (and at the end of each
 * folder) one syncfs(), then each file renamed into cur/ under a name as long as
 * offlineimap's (",U=<n>,FMD5=<32 hex>:2,S"), then one fsync() of cur/ and of tmp/.
 * That is the least a first sync into a Maildir costs the disk and the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSZ (1 << 20)
#define BATCH 8192
#define NAMESZ 64

static int fd;
static char buf[BUFSZ];
static size_t beg, end;
static unsigned long long literal_bytes, literals;

static void die(const char *what)
{
    fprintf(stderr, "floor: %s\n", what);
    exit(1);
}

static void fill(void)
{
    if (beg == end)
        beg = end = 0;
    else if (beg > BUFSZ / 2) {
        memmove(buf, buf + beg, end - beg);
        end -= beg;
        beg = 0;
    }
    if (end == BUFSZ)
        die("response line too long");
    ssize_t n = read(fd, buf + end, BUFSZ - end);
    if (n <= 0)
        die("connection closed");
    end += (size_t)n;
}

/* -m: the folder being written, and the batch of files in its tmp/ not yet renamed. */
static const char *mdroot;
static int tmpfd = -1, curfd = -1;
static char (*pending)[NAMESZ];
static size_t npending;
static unsigned long long written, renamed;

static void die_errno(const char *what, const char *name)
{
    fprintf(stderr, "floor: %s %s: %s\n", what, name, strerror(errno));
    exit(1);
}

static void flush_batch(void)
{
    if (!npending)
        return;
    if (syncfs(tmpfd) != 0)
        die_errno("syncfs", "tmp/");
    for (size_t i = 0; i < npending; i++) {
        char to[NAMESZ + 64];
        snprintf(to, sizeof to, "%s,U=%llu,FMD5=0123456789abcdef0123456789abcdef:2,S",
                 pending[i], ++renamed);
        if (renameat(tmpfd, pending[i], curfd, to) != 0)
            die_errno("rename", pending[i]);
    }
    if (fsync(curfd) != 0 || fsync(tmpfd) != 0)
        die_errno("fsync", "cur/ or tmp/");
    npending = 0;
}

static void open_folder(const char *name)
{
    flush_batch();
    if (tmpfd >= 0)
        close(tmpfd), close(curfd);
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", mdroot, name);
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        die_errno("mkdir", p);
    const char *subs[] = {"tmp", "new", "cur"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s/%s", mdroot, name, subs[i]);
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            die_errno("mkdir", p);
    }
    snprintf(p, sizeof p, "%s/%s/tmp", mdroot, name);
    tmpfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(p, sizeof p, "%s/%s/cur", mdroot, name);
    curfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmpfd < 0 || curfd < 0)
        die_errno("open", p);
}

/* Consume n bytes of the stream; with -m into a new file of the folder's tmp/. */
static void skip(unsigned long long n)
{
    int out = -1;
    if (mdroot) {
        if (npending == BATCH)
            flush_batch();
        snprintf(pending[npending], NAMESZ, "1700000000.M%lluP%d.floor", written++,
                 (int)getpid());
        out = openat(tmpfd, pending[npending], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
            die_errno("create", pending[npending]);
        npending++;
    }
    while (n > 0) {
        if (beg == end)
            fill();
        size_t have = end - beg;
        size_t take = have < n ? have : (size_t)n;
        if (out >= 0 && write(out, buf + beg, take) != (ssize_t)take)
            die_errno("write", pending[npending - 1]);
        beg += take;
        n -= take;
    }
    if (out >= 0 && close(out) != 0)
        die_errno("close", pending[npending - 1]);
}

/* Read one line (without CRLF) into out; literals inside it are skipped. Returns the
 * line's length (the part before any literal). */
static size_t line(char *out, size_t max)
{
    size_t len = 0;
    for (;;) {
        char *nl = memchr(buf + beg, '\n', end - beg);
        if (!nl) {
            fill();
            continue;
        }
        size_t n = (size_t)(nl - (buf + beg)) + 1;
        char *s = buf + beg;
        beg += n;
        size_t body = n >= 2 && s[n - 2] == '\r' ? n - 2 : n - 1;
        if (len == 0) {
            size_t c = body < max - 1 ? body : max - 1;
            memcpy(out, s, c);
            out[c] = 0;
            len = c;
        }
        if (body > 0 && s[body - 1] == '}') {
            size_t i = body - 1;
            while (i > 0 && s[i - 1] != '{')
                i--;
            if (i == 0)
                return len;
            unsigned long long lit = strtoull(s + i, NULL, 10);
            literals++;
            literal_bytes += lit;
            skip(lit);
            continue; /* the response goes on after the literal */
        }
        return len;
    }
}

static void send_all(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            die("write failed");
        s += w;
        n -= (size_t)w;
    }
}

static void command(const char *tag, const char *cmd)
{
    char out[4096], l[4096];
    snprintf(out, sizeof out, "%s %s\r\n", tag, cmd);
    send_all(out);
    size_t tl = strlen(tag);
    for (;;) {
        line(l, sizeof l);
        if (strncmp(l, tag, tl) == 0 && l[tl] == ' ') {
            if (strncmp(l + tl + 1, "OK", 2) != 0) {
                fprintf(stderr, "floor: %s -> %s\n", cmd, l);
                exit(1);
            }
            return;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "-m")) {
        mdroot = argv[2];
        pending = malloc(sizeof(*pending) * BATCH);
        if (!pending || (mkdir(mdroot, 0700) != 0 && errno != EEXIST))
            die("cannot set up the Maildir");
        argv += 2;
        argc -= 2;
    }
    if (argc < 5)
        die("usage: floor [-m MAILDIR] HOST PORT USER PASSWORD FOLDER...");
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0)
        die("cannot resolve the host");
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        die("cannot connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char l[4096], cmd[4096];
    line(l, sizeof l); /* greeting */
    snprintf(cmd, sizeof cmd, "LOGIN \"%s\" \"%s\"", argv[3], argv[4]);
    command("a1", cmd);
    for (int i = 5; i < argc; i++) {
        snprintf(cmd, sizeof cmd, "EXAMINE \"%s\"", argv[i]);
        command("s1", cmd);
        if (mdroot)
            open_folder(argv[i]);
        command("f1", "UID FETCH 1:* BODY.PEEK[]");
    }
    if (mdroot)
        flush_batch();
    command("z1", "LOGOUT");
    printf("%llu %llu\n", literals, literal_bytes);
    return 0;
}
