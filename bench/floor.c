/* The floor for a first sync: fetch every message body over one plain IMAP connection
 * and throw it away.
 *
 *   floor HOST PORT USER PASSWORD FOLDER...
 *
 * LOGIN, then per folder EXAMINE and "UID FETCH 1:* BODY.PEEK[]", reading the responses
 * as fast as they come (literals are skipped by count, not scanned). Prints
 * "<messages> <bytes>" on success; exit status 1 with a message on stderr otherwise.
 * Built by bench.py with "cc -O2"; no TLS, no pipelining tricks: the least work a tool
 * must do to download everything.
 */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (1 << 20)

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

static void skip(unsigned long long n)
{
    while (n > 0) {
        if (beg == end)
            fill();
        size_t have = end - beg;
        size_t take = have < n ? have : (size_t)n;
        beg += take;
        n -= take;
    }
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
    if (argc < 5)
        die("usage: floor HOST PORT USER PASSWORD FOLDER...");
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
        command("f1", "UID FETCH 1:* BODY.PEEK[]");
    }
    command("z1", "LOGOUT");
    printf("%llu %llu\n", literals, literal_bytes);
    return 0;
}
