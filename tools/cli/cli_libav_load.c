/* The functions of cli_libav.h for the lwc executable: they load the plugin
 * lwc-libav.so (cli_libav.c, which links FFmpeg's libraries) the first time
 * FFmpeg is really needed and forward to it, so that a command on images
 * never loads FFmpeg's hundred-odd shared libraries.
 *
 * The plugin is looked for in this order: $LWC_LIBAV_PLUGIN (a file path;
 * when set, nothing else is tried), the executable's own folder (the build
 * tree), the install's plugin folder relative to the executable (bin/../lib/
 * lwc: an install under any prefix), then the configured one. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imageio/imageio.h"
#include "tools/cli/cli.h"
#include "tools/cli/cli_libav.h"

#ifndef LWC_PLUGIN_DIR /* the configured install folder (CMake sets it) */
#define LWC_PLUGIN_DIR "/usr/local/lib/lwc"
#endif
#ifndef LWC_PLUGIN_DIR_FROM_BIN /* the same, relative to the installed executable's folder */
#define LWC_PLUGIN_DIR_FROM_BIN "../lib/lwc"
#endif

typedef const LwcAvApi *(*PluginEntry)(int abi_version);

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const LwcAvApi *g_api;
static char g_error[PATH_MAX + 512];

/* Open one candidate: 1 when loaded, 0 when it is no file (try the next),
 * -1 when it is there but unusable (g_error says why). */
static int try_plugin(const char *path)
{
    if (access(path, F_OK)) return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(g_error, sizeof(g_error), "cannot load the FFmpeg plugin %s: %s", path, why ? why : "dlopen failed");
        return -1;
    }
    PluginEntry entry = (PluginEntry)dlsym(h, LWC_AV_PLUGIN_ENTRY); /* POSIX: this cast is valid */
    const LwcAvApi *api = entry ? entry(LWC_AV_PLUGIN_ABI) : NULL;
    if (!api) {
        if (entry)
            snprintf(g_error, sizeof(g_error), "the FFmpeg plugin %s is from another version of lwc "
                     "(it refuses interface version %d): rebuild or reinstall lwc", path, LWC_AV_PLUGIN_ABI);
        else
            snprintf(g_error, sizeof(g_error), "%s is not lwc's FFmpeg plugin (no %s)", path, LWC_AV_PLUGIN_ENTRY);
        dlclose(h);
        return -1;
    }
    g_api = api;
    return 1;
}

static void load(void)
{
    const char *env = getenv("LWC_LIBAV_PLUGIN");
    if (env && *env) {
        if (try_plugin(env) == 0)
            snprintf(g_error, sizeof(g_error), "video needs the FFmpeg plugin %s, which was not found (LWC_LIBAV_PLUGIN=%s)",
                     LWC_AV_PLUGIN_FILE, env);
        return;
    }
    char dir[PATH_MAX], path[PATH_MAX + 64];
    int r = 0;
    if (lwc_cli_exe_dir(dir, sizeof(dir)) == 0) {
        snprintf(path, sizeof(path), "%s/%s", dir, LWC_AV_PLUGIN_FILE);
        r = try_plugin(path);
        if (r == 0) {
            snprintf(path, sizeof(path), "%s/%s/%s", dir, LWC_PLUGIN_DIR_FROM_BIN, LWC_AV_PLUGIN_FILE);
            r = try_plugin(path);
        }
    }
    if (r == 0) {
        snprintf(path, sizeof(path), "%s/%s", LWC_PLUGIN_DIR, LWC_AV_PLUGIN_FILE);
        r = try_plugin(path);
    }
    if (r == 0)
        snprintf(g_error, sizeof(g_error),
                 "video needs the FFmpeg plugin %s, which was not found (LWC_LIBAV_PLUGIN, next to the executable, %s)",
                 LWC_AV_PLUGIN_FILE, LWC_PLUGIN_DIR);
}

/* The plugin's table, loaded on the first call; NULL when it cannot be. */
static const LwcAvApi *plugin(void)
{
    pthread_once(&g_once, load);
    return g_api;
}

const char *lwc_av_plugin_error(void)
{
    return g_api || !g_error[0] ? NULL : g_error;
}

static int missing(char *err, size_t errlen)
{
    return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED, "%s", g_error);
}

/* Decided here when the answer does not depend on FFmpeg: "-", and a name
 * without '%' (so no pattern) that is PNG/JPEG/PNM by its extension or that
 * cannot be opened, are 0 with or without the plugin. */
int lwc_av_input_wanted(const char *path)
{
    if (!strcmp(path, "-")) return 0;
    int percent = strchr(path, '%') != NULL;
    if (!percent && lwc_format_from_path(path) >= 0) return 0;
    FILE *f = fopen(path, "rb");
    int readable = f != NULL;
    if (f) fclose(f);
    if (!percent && !readable) return 0;
    const LwcAvApi *api = plugin();
    if (api) return api->input_wanted(path);
    return percent && !readable;
}

int lwc_av_reader_open(const char *path, uint64_t max_pixels, int threads, LwcAvReader **rd, LwcAvInfo *info,
                       char *err, size_t errlen)
{
    *rd = NULL;
    const LwcAvApi *api = plugin();
    return api ? api->reader_open(path, max_pixels, threads, rd, info, err, errlen) : missing(err, errlen);
}

int lwc_av_reader_next(LwcAvReader *rd, LwcImage *img, char *err, size_t errlen)
{
    return g_api->reader_next(rd, img, err, errlen); /* rd came from reader_open: the plugin is loaded */
}

void lwc_av_reader_close(LwcAvReader **rd)
{
    if (rd && *rd) g_api->reader_close(rd);
}

/* FFmpeg's frame-number patterns ("%03d") all hold a '%'. */
int lwc_av_is_pattern(const char *path)
{
    if (!strchr(path, '%')) return 0;
    const LwcAvApi *api = plugin();
    return api ? api->is_pattern(path) : 1;
}

/* FFmpeg's muxers claim names by their extension: no '.' in the file's
 * name, no muxer. */
int lwc_av_output_wanted(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!strcmp(path, "-") || !strchr(slash ? slash : path, '.')) return 0;
    const LwcAvApi *api = plugin();
    return api ? api->output_wanted(path) : 1;
}

int lwc_av_writer_open(const char *path, int width, int height, int channels, uint32_t fps_num, uint32_t fps_den,
                       LwcAvWriter **w, char *err, size_t errlen)
{
    *w = NULL;
    const LwcAvApi *api = plugin();
    return api ? api->writer_open(path, width, height, channels, fps_num, fps_den, w, err, errlen) : missing(err, errlen);
}

int lwc_av_writer_frame(LwcAvWriter *w, const LwcImage *img, char *err, size_t errlen)
{
    return g_api->writer_frame(w, img, err, errlen); /* w came from writer_open */
}

int lwc_av_writer_finish(LwcAvWriter *w, char *err, size_t errlen)
{
    return g_api->writer_finish(w, err, errlen);
}

const char *lwc_av_writer_desc(const LwcAvWriter *w)
{
    return g_api->writer_desc(w);
}

void lwc_av_writer_close(LwcAvWriter **w)
{
    if (w && *w) g_api->writer_close(w);
}
