/*
 * fuzz_config_ini: the configuration reader on arbitrary bytes.
 *
 * The input is fed in pieces whose sizes come from the first byte (so "\r\n"
 * and UTF-8 sequences get split), then every option of every section is read
 * raw, interpolated and as each type, and the whole model is built from it.
 * Nothing may crash, leak or read out of bounds; interpolation bombs must
 * stop at their limits.
 */
#include "config/config_ini.h"
#include "config/config_model.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const struct ini *ini, const struct ini_section *s)
{
    for (size_t i = 0; i < s->nopts; i++) {
        struct err e = ERR_INIT;
        char *v = NULL;
        bool b;
        int64_t n;
        double d;
        if (ini_get(ini, s->name, s->opts[i].name, false, &v, &e) == INI_FOUND && !v)
            abort();
        free(v);
        err_clear(&e);
        ini_get_bool(ini, s->name, s->opts[i].name, &b, &e);
        err_clear(&e);
        ini_get_int(ini, s->name, s->opts[i].name, &n, &e);
        err_clear(&e);
        ini_get_float(ini, s->name, s->opts[i].name, &d, &e);
        err_clear(&e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t step = size ? (size_t)data[0] % 17 + 1 : 1;
    struct ini *ini = ini_new("<fuzz>");
    struct ini_parser *p = ini_parser_new(ini);
    for (size_t off = 0; off < size; off += step)
        ini_parser_feed(p, data + off, size - off < step ? size - off : step);
    struct err e = ERR_INIT;
    bool ok = ini_parser_finish(&p, &e);
    err_clear(&e);
    if (!ok) {
        ini_free(&ini);
        return 0;
    }
    read_all(ini, &ini->defaults);
    for (size_t i = 0; i < ini->nsections; i++)
        read_all(ini, &ini->sections[i]);
    /* An override built from the first section and option, if any. */
    if (ini->nsections && ini->sections[0].nopts) {
        char *spec = xasprintf("%s:%s=%%%%x", ini->sections[0].name, ini->sections[0].opts[0].name);
        ini_override(ini, spec, &e);
        err_clear(&e);
        free(spec);
    }
    struct config *cfg = NULL;
    struct config_problems probs = CONFIG_PROBLEMS_INIT;
    config_build(ini, NULL, &cfg, &probs);
    config_free(&cfg);
    config_problems_free(&probs);
    return 0;
}
