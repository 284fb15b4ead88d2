/* OpenImageIO 2.4 shim with a C interface (io_impl.h): opens, describes and
 * reads DPX, Cineon, TIFF, PNG, JPEG (in the decoder helper, io_decode.c)
 * and DWAA/DWAB EXR (in process), and writes DPX, TIFF, PNG, JPEG and
 * DWAA/DWAB EXR (other EXR: io_exr_write.c). Errors
 * are returned as text, never thrown: every entry point catches all C++
 * exceptions, so none crosses into C. Alpha is never (un)premultiplied. */
#include "io_impl.h"

#include <OpenImageIO/imageio.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

using namespace OIIO;

struct reel_oiio_in {
  std::unique_ptr<ImageInput> in;
  ImageSpec spec;
  int part;
};

static void seterr(char *err, size_t cap, const std::string &s) {
  if (cap) snprintf(err, cap, "%s", s.empty() ? "unknown OpenImageIO error" : s.c_str());
}

extern "C" void reel_oiio_init(void) {
  try {
    /* Loads the reader catalogue now, in the parent, so a forked child never
     * runs the plugin search (dlopen) on its own. */
    std::string fl;
    OIIO::getattribute("format_list", fl);
  } catch (...) {
  }
}

static void fill_spec(const ImageSpec &s, int nsub, reel_oiio_spec_t *o) {
  memset(o, 0, sizeof *o);
  o->w = s.width;
  o->h = s.height;
  o->x = s.x;
  o->y = s.y;
  o->fw = s.full_width;
  o->fh = s.full_height;
  o->fx = s.full_x;
  o->fy = s.full_y;
  o->nch = s.nchannels;
  o->nsub = nsub;
  TypeDesc f = s.format;
  int bits = s.get_int_attribute("oiio:BitsPerSample", (int)f.size() * 8);
  o->bits = bits;
  if (f == TypeDesc::UINT8) {
    o->elem = 1;
    snprintf(o->pixeltype, sizeof o->pixeltype, "uint%d", bits < 8 ? bits : 8);
  } else if (f == TypeDesc::UINT16) {
    o->elem = 2;
    snprintf(o->pixeltype, sizeof o->pixeltype, "uint%d", bits > 0 && bits <= 16 ? bits : 16);
  } else {
    o->elem = 4;
    snprintf(o->pixeltype, sizeof o->pixeltype, "%s", f.c_str());
  }
}

extern "C" reel_oiio_in_t *reel_oiio_open(const char *path, const char *fmt, int part, int threads,
                                          reel_oiio_spec_t *spec, char *err, size_t cap) {
  try {
    auto r = std::make_unique<reel_oiio_in>();
    r->in = ImageInput::create(fmt);
    if (!r->in) {
      seterr(err, cap, "no OpenImageIO reader for " + std::string(fmt) + ": " + geterror());
      return nullptr;
    }
    if (threads) r->in->threads(threads);
    ImageSpec config, got;
    config.attribute("oiio:UnassociatedAlpha", 1); /* pass alpha through untouched */
    if (!r->in->open(path, got, config)) {
      seterr(err, cap, r->in->geterror());
      return nullptr;
    }
    int nsub = 1;
    while (nsub < 1024 && r->in->seek_subimage(nsub, 0)) nsub++;
    (void)r->in->geterror(); /* the failed seek past the end leaves a message */
    if (part < 0 || part >= nsub) {
      seterr(err, cap,
             "it has " + std::to_string(nsub) + (nsub == 1 ? " part" : " parts") + "; part " +
                 std::to_string(part) + " does not exist");
      return nullptr;
    }
    if (!r->in->seek_subimage(part, 0)) {
      seterr(err, cap, r->in->geterror());
      return nullptr;
    }
    r->spec = r->in->spec();
    r->part = part;
    fill_spec(r->spec, nsub, spec);
    return r.release();
  } catch (const std::exception &e) {
    seterr(err, cap, std::string("OpenImageIO failed: ") + e.what());
  } catch (...) {
    seterr(err, cap, "OpenImageIO failed with an unknown exception");
  }
  return nullptr;
}

extern "C" const char *reel_oiio_chname(const reel_oiio_in_t *in, int c) {
  if (c < 0 || c >= (int)in->spec.channelnames.size()) return "";
  return in->spec.channelnames[c].c_str();
}

extern "C" void reel_oiio_attrs(const reel_oiio_in_t *in,
                                void (*fn)(void *, const char *, const char *), void *ud) {
  try {
    for (const ParamValue &p : in->spec.extra_attribs) {
      TypeDesc t = p.type();
      std::string v;
      if (t == TypeString && p.nvalues() == 1) {
        const char *s = *(const char *const *)p.data();
        if (!s || strlen(s) > 65536) continue;
        v = s;
      } else if (t.basetype >= TypeDesc::UINT8 && t.basetype <= TypeDesc::DOUBLE) {
        /* numbers; long arrays are blobs (ICC profiles, user data) */
        if ((size_t)p.nvalues() * t.numelements() * t.aggregate > 16) continue;
        v = p.get_string(16);
      } else {
        continue;
      }
      fn(ud, p.name().c_str(), v.c_str());
    }
  } catch (...) {
  }
}

extern "C" int reel_oiio_read(reel_oiio_in_t *in, int cb, int ce, int elem, void *dst, char *err,
                              size_t cap) {
  try {
    TypeDesc t = elem == 1 ? TypeDesc::UINT8 : elem == 2 ? TypeDesc::UINT16 : TypeDesc::FLOAT;
    /* OpenImageIO 2.4 reads in chunks rounded to the file's
     * "tiff:RowsPerStrip" attribute, whatever the format, and divides by
     * zero when a file carries 0 there (rowsperstrip-zero.exr): the reader's
     * own copy of the attribute is made sane first. */
    ImageSpec &live = const_cast<ImageSpec &>(in->in->spec());
    if (live.get_int_attribute("tiff:RowsPerStrip", 1) <= 0)
      live.attribute("tiff:RowsPerStrip", live.height > 0 ? live.height : 1);
    if (!in->in->read_image(in->part, 0, cb, ce, t, dst)) {
      seterr(err, cap, in->in->geterror());
      return -1;
    }
    return 0;
  } catch (const std::exception &e) {
    seterr(err, cap, std::string("OpenImageIO failed: ") + e.what());
  } catch (...) {
    seterr(err, cap, "OpenImageIO failed with an unknown exception");
  }
  return -1;
}

extern "C" void reel_oiio_close(reel_oiio_in_t *in) {
  try {
    if (in && in->in) in->in->close();
    delete in;
  } catch (...) {
  }
}

/* Metadata keys that describe the source file's layout, not the picture:
 * never carried into another file (the writer sets its own). Shared with
 * the OpenEXRCore writer (io_exr_write.c); kept here so the decoder helper,
 * which links this file alone, needs nothing else. */
extern "C" int reel_io_meta_skip(const char *k) {
  static const char *const prefixes[] = {
      "dpx:",  "cineon:",    "tiff:",  "jpeg:",       "png:",           "openexr:",
      "oiio:", "Exif:",      "exif:",  "GPS:",        "IPTC:",          "ICCProfile",
      "XMP:",  "photoshop:", "smpte:", "reel:format", "reel:pixeltype", NULL};
  static const char *const keys[] = {"compression",
                                     "Compression",
                                     "Orientation",
                                     "XResolution",
                                     "YResolution",
                                     "ResolutionUnit",
                                     "planarconfig",
                                     "PixelAspectRatio",
                                     "chromaticities",
                                     "screenWindowCenter",
                                     "screenWindowWidth",
                                     "dataWindow",
                                     "displayWindow",
                                     "lineOrder",
                                     "channels",
                                     "tiles",
                                     "chunkCount",
                                     "type",
                                     "name",
                                     "version",
                                     NULL};
  if (!strcmp(k, "oiio:ColorSpace")) return 0;
  for (int i = 0; prefixes[i]; i++)
    if (!strncmp(k, prefixes[i], strlen(prefixes[i]))) return 1;
  for (int i = 0; keys[i]; i++)
    if (!strcmp(k, keys[i])) return 1;
  return 0;
}

/* Standard EXR attributes that are not strings: one float, or another type
 * (never written from text: a reader would find the wrong type under a
 * known name). Shared with io_exr_write.c, like reel_io_meta_skip. */
extern "C" int reel_exr_attr_kind(const char *name) {
  static const char *const floats[] = {"whiteLuminance", "xDensity", "utcOffset", "longitude",
                                       "latitude",       "altitude", "focus",     "expTime",
                                       "aperture",       "isoSpeed", NULL};
  static const char *const typed[] = {"adoptedNeutral",
                                      "envmap",
                                      "keyCode",
                                      "timeCode",
                                      "multiView",
                                      "worldToCamera",
                                      "worldToNDC",
                                      "deepImageState",
                                      "originalDataWindow",
                                      "dwaCompressionLevel",
                                      "preview",
                                      "view",
                                      NULL};
  for (int i = 0; floats[i]; i++)
    if (!strcmp(name, floats[i])) return 1;
  for (int i = 0; typed[i]; i++)
    if (!strcmp(name, typed[i])) return 2;
  return 0;
}

static void put_meta(ImageSpec &s, const reel_meta_t *m, bool exr) {
  if (!m) return;
  const char *cs = NULL;
  for (int i = 0; i < m->n; i++) {
    const char *k = m->k[i], *v = m->v[i];
    if (!strcmp(k, "reel:colorspace")) cs = v;
    if (!strcmp(k, "PixelAspectRatio")) {
      float a;
      if (sscanf(v, "%f", &a) == 1 && a > 0) s.attribute("PixelAspectRatio", a);
      continue;
    }
    if (!strcmp(k, "chromaticities")) {
      float c[8];
      if (exr && sscanf(v, "%f%*[ ,]%f%*[ ,]%f%*[ ,]%f%*[ ,]%f%*[ ,]%f%*[ ,]%f%*[ ,]%f", c, c + 1,
                        c + 2, c + 3, c + 4, c + 5, c + 6, c + 7) == 8)
        s.attribute("chromaticities", TypeDesc(TypeDesc::FLOAT, 8), c);
      continue;
    }
    if (reel_io_meta_skip(k)) continue;
    int kind = exr ? reel_exr_attr_kind(k) : 0;
    float f;
    if (kind == 1 && sscanf(v, "%f", &f) == 1) s.attribute(k, f);
    if (kind) continue;
    s.attribute(k, v);
  }
  /* The graph's own colour tag wins over one carried from a source file. */
  if (cs && cs[0]) s.attribute("oiio:ColorSpace", cs);
}

extern "C" int reel_oiio_write(const char *path, const char *fmt, const reel_oiio_wspec_t *ws,
                               const void *px, char *err, size_t cap) {
  try {
    auto out = ImageOutput::create(fmt);
    if (!out) {
      seterr(err, cap, "no OpenImageIO writer for " + std::string(fmt) + ": " + geterror());
      return -1;
    }
    bool exr = !strcmp(fmt, "openexr");
    TypeDesc file = ws->half         ? TypeDesc::HALF
                    : ws->bits == 32 ? TypeDesc::FLOAT
                    : ws->bits == 8  ? TypeDesc::UINT8
                                     : TypeDesc::UINT16;
    ImageSpec s(ws->w, ws->h, ws->nch, file);
    s.x = ws->x;
    s.y = ws->y;
    s.full_x = ws->fx;
    s.full_y = ws->fy;
    s.full_width = ws->fw;
    s.full_height = ws->fh;
    s.channelnames.clear();
    s.alpha_channel = -1;
    for (int c = 0; c < ws->nch; c++) {
      s.channelnames.emplace_back(ws->chnames[c]);
      if (!strcmp(ws->chnames[c], "A")) s.alpha_channel = c;
    }
    if (ws->bits == 10 || ws->bits == 12) s.attribute("oiio:BitsPerSample", ws->bits);
    s.attribute("oiio:UnassociatedAlpha", 1);
    put_meta(s, ws->meta, exr);
    if (ws->compression) {
      std::string c = ws->compression;
      if (exr && (c == "dwaa" || c == "dwab")) {
        int level = ws->quality > 0 ? ws->quality : 45;
        s.attribute("openexr:dwaCompressionLevel", (float)level);
        c += ":" + std::to_string(level);
      }
      s.attribute("compression", c);
    }
    if (!strcmp(fmt, "jpeg")) {
      int q = ws->quality > 0 ? ws->quality : 95;
      s.attribute("Compression", "jpeg:" + std::to_string(q));
      s.attribute("CompressionQuality", q);
    }
    if (!out->open(path, s)) {
      seterr(err, cap, out->geterror());
      return -1;
    }
    TypeDesc t = ws->elem == 1   ? TypeDesc::UINT8
                 : ws->elem == 2 ? TypeDesc::UINT16
                                 : TypeDesc::FLOAT;
    bool ok = out->write_image(t, px);
    std::string e = ok ? "" : out->geterror();
    if (!out->close() && ok) {
      ok = false;
      e = out->geterror();
    }
    if (!ok) {
      seterr(err, cap, e);
      return -1;
    }
    return 0;
  } catch (const std::exception &e) {
    seterr(err, cap, std::string("OpenImageIO failed: ") + e.what());
  } catch (...) {
    seterr(err, cap, "OpenImageIO failed with an unknown exception");
  }
  return -1;
}
