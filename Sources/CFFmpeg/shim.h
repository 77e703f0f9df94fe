#ifndef KERF_CFFMPEG_SHIM_H
#define KERF_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswscale/swscale.h>
/* libavfilter's declarations only: the library is not linked (it pulls in ~150 libraries) but
   loaded with dlopen when a filter graph is first needed (KerfMedia's FilterLibrary). */
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>
#include <libswresample/swresample.h>

/* AVERROR(e) is a function-like macro and AVERROR_EOF is built from FFERRTAG/MKTAG; Swift
   imports neither, so the codes Kerf compares against are exposed as functions. */
static inline int kerf_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int kerf_averror_eof(void) { return AVERROR_EOF; }
static inline int kerf_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int kerf_averror_einval(void) { return AVERROR(EINVAL); }
static inline int kerf_averror_eio(void) { return AVERROR(EIO); }
static inline int kerf_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int kerf_averror_exit(void) { return AVERROR_EXIT; }
static inline int kerf_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int kerf_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }

/* AV_NOPTS_VALUE is a cast expression macro, which Swift does not import. */
static inline int64_t kerf_av_nopts_value(void) { return AV_NOPTS_VALUE; }

/* AVSEEK_SIZE is a plain int macro but its meaning ("whence asks for the size") is clearer
   next to the other AVIO constants Kerf uses in its seek callback. */
static inline int kerf_avseek_size(void) { return AVSEEK_SIZE; }

/* FFmpeg's log callback receives a va_list, which a Swift @convention(c) closure cannot take.
   This trampoline formats the line in C and hands it to kerf_log_line, implemented in Swift
   (KerfMedia, with @_cdecl). */
void kerf_log_line(int level, const char *line);

static void kerf_log_trampoline(void *context, int level, const char *format, va_list arguments) {
    if (level > av_log_get_level()) return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(context, level, format, arguments, line, sizeof line, &print_prefix);
    kerf_log_line(level, line);
}

static inline void kerf_log_install(void) { av_log_set_callback(kerf_log_trampoline); }

#endif
