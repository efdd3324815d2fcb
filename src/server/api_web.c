/* api_web.c - the dashboard's side of the API: the login page, the
 * cookie that carries the token for browsers, the CSRF check of the POSTs
 * it authenticates, the web root's files, and the node and session
 * endpoints the pages read; see include/lstmsweep/api.h.
 *
 * The cookie holds the token itself (HttpOnly: the page's scripts never see
 * it; SameSite=Strict: no other site's page makes the browser send it), so
 * that a cookie survives a restart of the server exactly as the token does,
 * and replacing STATE/token revokes both.  Its name carries the port of the
 * Host header (cookies are not kept apart by port: two servers on one host
 * would overwrite each other's).  The CSRF value is random per process and
 * only readable with the token (GET /api/v1/session); a page of another
 * origin can neither read it nor send a custom header without a CORS
 * preflight, which this server never grants. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "api_internal.h"
#include "lstmsweep/alloc.h"

#define HTML_TYPE "text/html; charset=utf-8"
#define COOKIE_PREFIX "lstmsweep"
#define COOKIE_MAX_AGE 604800     /* a week, in seconds */
#define WEB_FILE_MAX (4u << 20)

/* ---- credentials ----------------------------------------------------------------- */

/* 1 if the Cookie header holds a cookie lstmsweep* whose value is the token
 * (every such cookie is compared, in constant time each). */
int ls_api_cookie_authorized(const ls_api *api, const char *cookie)
{
    int ok = 0;

    for (const char *p = cookie; p && *p;) {
        p += strspn(p, " ;");
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        if (eq && !strncmp(p, COOKIE_PREFIX, sizeof COOKIE_PREFIX - 1)) {
            char value[LS_TOKEN_LEN + 64];
            size_t vn = (size_t)(p + n - eq - 1);
            if (vn < sizeof value) {
                memcpy(value, eq + 1, vn);
                value[vn] = '\0';
                ok |= ls_token_equal(value, api->token);
            }
        }
        p += n;
    }
    return ok;
}

int api_is_public(const char *method, const char *path)
{
    return !strcmp(path, "/healthz") || (!strcmp(path, "/") && strcmp(method, "POST")) ||
           (!strcmp(path, "/login") && !strcmp(method, "POST"));
}

int ls_api_may_enter(const ls_api *api, const char *method, const char *path,
                     const char *authorization, const char *cookie)
{
    return api_is_public(method, path) || ls_api_authorized(api, authorization) ||
           ls_api_cookie_authorized(api, cookie);
}

int api_auth_kind(const ls_api *api, const ls_api_request *req)
{
    if (ls_api_authorized(api, ls_api_header(req, "Authorization")))
        return 1;
    return ls_api_cookie_authorized(api, ls_api_header(req, "Cookie")) ? 2 : 0;
}

int api_csrf_ok(const ls_api *api, const ls_api_request *req, ls_api_response *resp)
{
    const char *csrf = ls_api_header(req, "X-Lstmsweep-CSRF");
    const char *origin = ls_api_header(req, "Origin"), *host = ls_api_header(req, "Host");

    if (!csrf || !ls_token_equal(csrf, api->csrf)) {
        ls_api_error(resp, 403, "a POST authenticated by the cookie must send the header "
                     "X-Lstmsweep-CSRF (GET /api/v1/session has its value)");
        return 0;
    }
    if (origin && (!host || strncmp(origin, "http://", 7) || strcmp(origin + 7, host))) {
        ls_api_error(resp, 403, "Origin '%.100s' is not this server", origin);
        return 0;
    }
    return 1;
}

/* The cookie's name: lstmsweep_PORT from the Host header ("lstmsweep"
 * without a port). */
static void cookie_name(const ls_api_request *req, char *buf, size_t len)
{
    const char *host = ls_api_header(req, "Host");
    const char *colon = host ? strrchr(host, ':') : NULL;

    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
        strlen(colon + 1) <= 5)
        snprintf(buf, len, COOKIE_PREFIX "_%s", colon + 1);
    else
        snprintf(buf, len, COOKIE_PREFIX);
}

/* 303 to / setting (or, token NULL, clearing) the cookie. */
static void redirect_home(const ls_api_request *req, const char *token, ls_api_response *resp)
{
    char name[32];

    cookie_name(req, name, sizeof name);
    api_body(resp, 303, HTML_TYPE, NULL, 0);
    resp->location = "/";
    resp->page = 1;
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", name, token ? token : "",
             token ? COOKIE_MAX_AGE : 0);
}

/* ---- pages ------------------------------------------------------------------------- */

static const char login_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>lstmsweep: sign in</title><style>"
    "body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;"
    "color:#1b1b1b}label{display:block;font-weight:600;margin:.5rem 0}"
    "input{font:inherit;width:100%;box-sizing:border-box;padding:.4rem}"
    "button{font:inherit;margin-top:.8rem;padding:.4rem 1.2rem}"
    ".msg{color:#a00000}</style></head><body><main>"
    "<h1>lstmsweep</h1>";
static const char login_form[] =
    "<form method=\"post\" action=\"/login\">"
    "<label for=\"token\">Token</label>"
    "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" "
    "required autofocus>"
    "<p>The token is in the server's state directory (<code>STATE/token</code>); "
    "the link the server prints at start signs in at once.</p>"
    "<button type=\"submit\">Sign in</button></form></main></body></html>\n";

void api_login_page(ls_api_response *resp, int status, const char *message)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);

    if (!f) {
        ls_api_error(resp, 500, "out of memory");
        return;
    }
    fputs(login_head, f);
    if (message)   /* static text, nothing to escape */
        fprintf(f, "<p class=\"msg\" role=\"alert\">%s</p>", message);
    fputs(login_form, f);
    if (fclose(f)) {
        free(body);
        ls_api_error(resp, 500, "out of memory");
        return;
    }
    api_body(resp, status, HTML_TYPE, body, len);
    resp->page = 1;
}

static const struct { const char *ext, *type; } types[] = {
    {".html", HTML_TYPE}, {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".txt", "text/plain; charset=utf-8"}, {".ico", "image/x-icon"}};

static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && !strcmp(name + n - e, types[i].ext))
            return types[i].type;
    }
    return NULL;
}

/* The web root's file rel ("index.html", "vendor/uPlot.esm.js"): 200, or
 * 404 for a name outside [A-Za-z0-9._-] segments or of another type. */
static void send_file(ls_api *api, const char *rel, ls_api_response *resp)
{
    static const char ok_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789._-/";
    const char *type = type_of(rel);
    char path[4096];
    struct stat st;
    FILE *f;

    if (!api->web_root) {
        ls_api_error(resp, 404, "this server has no dashboard (no web root)");
        return;
    }
    if (!type || strspn(rel, ok_chars) != strlen(rel) || rel[0] == '.' || strstr(rel, "/.") ||
        strstr(rel, "//") ||
        (size_t)snprintf(path, sizeof path, "%s/%s", api->web_root, rel) >= sizeof path ||
        !(f = fopen(path, "rb"))) {
        ls_api_error(resp, 404, "no such file: /%.200s", rel);
        return;
    }
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
        fclose(f);
        ls_api_error(resp, 404, "no such file: /%.200s", rel);
        return;
    }
    char *body = malloc((size_t)st.st_size + 1);
    size_t len = body ? fread(body, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!body || len != (size_t)st.st_size) {
        free(body);
        ls_api_error(resp, 500, "/%.200s: cannot read it", rel);
        return;
    }
    api_body(resp, 200, type, body, len);
    resp->page = 1;
}

void api_web_page(ls_api *api, const ls_api_request *req, const char *arg,
                  ls_api_response *resp)
{
    const char *token = api_query(req, "token");

    if (token && ls_token_equal(token, api->token)) {
        redirect_home(req, api->token, resp);     /* and the token leaves the URL */
        return;
    }
    if (token) {
        api_login_page(resp, 401, "That token is not this server's.");
        return;
    }
    if (!api_auth_kind(api, req)) {
        api_login_page(resp, 200, NULL);
        return;
    }
    send_file(api, "index.html", resp);
}

/* The form field name's value, URL-decoded into out (cap), or -1. */
static int form_value(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t o = 0;
            for (const char *s = p + nl + 1; s < stop && o + 1 < cap; s++) {
                if (*s == '+')
                    out[o++] = ' ';
                else if (*s == '%' && stop - s > 2) {
                    char hex[3] = {s[1], s[2], 0};
                    out[o++] = (char)strtol(hex, NULL, 16);
                    s += 2;
                } else
                    out[o++] = *s;
            }
            out[o] = '\0';
            return 0;
        }
        p = stop + 1;
    }
    return -1;
}

void api_web_login(ls_api *api, const ls_api_request *req, const char *arg,
                   ls_api_response *resp)
{
    char token[LS_TOKEN_LEN + 64];

    if (!req->body || form_value(req->body, req->body_len, "token", token, sizeof token) ||
        !ls_token_equal(token, api->token)) {
        api_login_page(resp, 401, "That token is not this server's.");
        return;
    }
    redirect_home(req, api->token, resp);
}

void api_web_logout(ls_api *api, const ls_api_request *req, const char *arg,
                    ls_api_response *resp)
{
    redirect_home(req, NULL, resp);
}

void api_web_file(ls_api *api, const ls_api_request *req, const char *arg,
                  ls_api_response *resp)
{
    send_file(api, req->path + 1, resp);
}

void api_session(ls_api *api, const ls_api_request *req, const char *arg,
                 ls_api_response *resp)
{
    api_json(resp, 200, json_pack("{s:s}", "csrf", api->csrf));
}

/* ---- the node --------------------------------------------------------------------- */

/* 1 if PU pu is in a list like "0-3,8". */
static int in_cpulist(const char *list, int pu)
{
    for (const char *p = list; p && *p;) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            return 0;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        if (pu >= a && pu <= b)
            return 1;
        p = *end == ',' ? end + 1 : NULL;
    }
    return 0;
}

/* The store's running jobs (when the scheduler lists none itself). */
static void running_from_store(ls_api *api, ls_node_status *node)
{
    ls_sweep_info *w = NULL;
    size_t nw = 0;
    ls_store_job_info in[LS_NODE_JOBS_MAX];

    if (ls_store_sweeps(api->store, &w, &nw, NULL))
        return;
    for (size_t i = 0; i < nw && node->njobs < LS_NODE_JOBS_MAX; i++) {
        size_t n = 0;
        if (!w[i].by_state[LS_JOB_RUNNING] ||
            ls_store_jobs(api->store, w[i].name, "running", 0,
                          LS_NODE_JOBS_MAX - node->njobs, in, &n, NULL, NULL))
            continue;
        for (size_t k = 0; k < n; k++) {
            ls_node_job *j = &node->jobs[node->njobs++];
            memset(j, 0, sizeof *j);
            snprintf(j->sweep, sizeof j->sweep, "%.63s", in[k].sweep);
            snprintf(j->id, sizeof j->id, "%.23s", in[k].id);
            j->attempt = in[k].attempt;
            j->threads = -1;
            j->numa_node = -1;
            j->mem_bytes = -1;
        }
    }
    ls_free(w);
}

static json_t *num_or_null(double x)
{
    return x < 0 ? json_null() : json_real(x);
}

static json_t *node_json(const ls_node_status *node)
{
    json_t *cores = json_array(), *running = json_array();

    for (int c = 0; cores && c < node->ncores_listed && c < LS_NODE_CORES_MAX; c++) {
        const char *job = NULL;
        for (size_t k = 0; !job && k < node->njobs; k++)
            if (node->jobs[k].cpus[0] && in_cpulist(node->jobs[k].cpus, node->core_pu[c]))
                job = node->jobs[k].id;
        json_array_append_new(cores, json_pack("{s:i, s:i, s:i, s:o}", "core", c, "numa",
                                               node->core_numa[c], "pu", node->core_pu[c],
                                               "job", job ? json_string(job) : json_null()));
    }
    for (size_t k = 0; running && k < node->njobs; k++) {
        const ls_node_job *j = &node->jobs[k];
        json_array_append_new(running, json_pack(
            "{s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "sweep", j->sweep, "id", j->id, "attempt",
            j->attempt, "threads", j->threads < 0 ? json_null() : json_integer(j->threads),
            "cpus", j->cpus[0] ? json_string(j->cpus) : json_null(),
            "numa_node", j->numa_node < 0 ? json_null() : json_integer(j->numa_node),
            "mem_bytes", num_or_null(j->mem_bytes)));
    }
    return json_pack("{s:i, s:i, s:i, s:o, s:o, s:f, s:o, s:o}", "total_cores",
                     node->total_cores, "busy_cores", node->busy_cores, "numa_nodes",
                     node->numa_nodes, "mem_total_bytes",
                     node->mem_total_bytes > 0 ? json_real(node->mem_total_bytes) : json_null(),
                     "mem_used_bytes",
                     node->mem_total_bytes > 0 && node->mem_used_bytes >= 0
                         ? json_real(node->mem_used_bytes) : json_null(),
                     "samples_per_s", node->samples_per_s, "cores", cores, "running", running);
}

void api_node(ls_api *api, const ls_api_request *req, const char *arg, ls_api_response *resp)
{
    ls_node_status *node = ls_calloc(1, sizeof *node);

    if (!node) {
        ls_api_error(resp, 500, "out of memory");
        return;
    }
    if (api->hooks.node_status)
        api->hooks.node_status(api->hooks.ctx, node);
    if (node->njobs == 0)
        running_from_store(api, node);
    api_json(resp, 200, node_json(node));
    ls_free(node);
}

/* ---- life ------------------------------------------------------------------------- */

int api_web_init(ls_api *api, const char *web_root, ls_err *err)
{
    unsigned char raw[32];

    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return ls_err_set(err, LS_EIO, "getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(api->csrf + 2 * i, 3, "%02x", raw[i]);
    if (web_root && !(api->web_root = ls_strdup(web_root)))
        return ls_err_set(err, LS_ENOMEM, "out of memory");
    return 0;
}
