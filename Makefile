# Reel: one non-recursive Makefile. `make` builds lib/libreel.so and bin/reel.
# `make demo` installs the Debian packages, builds and runs the demo graph;
# `make test` runs the whole suite. See README.md.

PREFIX  ?= /usr/local
CC      ?= cc
CXX     ?= c++
OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -Wvla
ifeq ($(CI),true)
WARN    += -Werror
endif
DEPS_PC := luajit OpenImageIO OpenEXR libxxhash OpenCL
PCFLAGS := $(shell pkg-config --cflags $(DEPS_PC) 2>/dev/null)
PCLIBS  := $(shell pkg-config --libs $(DEPS_PC) 2>/dev/null)
CFLAGS  += -std=gnu11 $(OPT) -g -fPIC -pthread $(WARN) -MMD -MP \
           -Iengine -Ibuild $(PCFLAGS) -DREEL_VERSION=\"$(VERSION)\"
CXXFLAGS+= -std=c++17 $(OPT) -g -fPIC -pthread -Wall -Wextra -Wno-unused-parameter \
           -MMD -MP -Iengine $(PCFLAGS)
LDLIBS  := $(PCLIBS) -lm -lpthread -ldl
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ENGINE_C   := $(wildcard engine/*.c engine/nn/*.c)
ENGINE_CXX := $(wildcard engine/*.cpp)
NODES_C    := $(wildcard nodes/*.c)
CL_SRC     := opencl/common.h $(wildcard opencl/*.cl)
LIB_OBJ    := $(ENGINE_C:%.c=build/%.o) $(ENGINE_CXX:%.cpp=build/%.o) \
              $(NODES_C:%.c=build/%.o) build/embed_cl.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
CONF_BIN   := build/tests/nn_probe

all: lib/libreel.so bin/reel lib/reel/reel-decode docs/nodes.md docs/templates.md

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

build/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

build/embed: tools/embed.c
	@mkdir -p build
	$(CC) -O1 -o $@ $<

# Kernel sources are compiled into the library: opencl/*.cl and the shared
# header become C strings, looked up by family name at run time.
build/embed_cl.c: build/embed $(CL_SRC)
	build/embed $@ $(CL_SRC)

build/libreel.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

lib/libreel.so: $(LIB_OBJ)
	@mkdir -p lib
	$(CXX) -shared -o $@ $^ $(LDLIBS)

CMD_OBJ    := build/tools/reel.o build/tools/cli.o build/tools/cmd_compare.o build/tools/cmd_model.o \
              build/tools/cmd_sync.o

bin/reel: $(CMD_OBJ) lib/libreel.so
	@mkdir -p bin
	$(CC) -o $@ $(CMD_OBJ) -Llib -lreel -Wl,-rpath,'$$ORIGIN/../lib' \
	  -Wl,-E $(LDLIBS)

# The decoder helper libreel starts for DPX, Cineon, TIFF, PNG and JPEG
# (engine/io_helper.c): small, only the OpenImageIO shim; found beside the
# library as reel/reel-decode.
lib/reel/reel-decode: build/tools/reel_decode.o build/engine/io_decode.o build/engine/io_oiio.o
	@mkdir -p lib/reel
	$(CXX) -o $@ $^ -Wl,--as-needed $(LDLIBS)

docs/nodes.md: bin/reel
	bin/reel nodes --markdown > $@.tmp && mv $@.tmp $@

# The templates' option reference, from their own option tables.
docs/templates.md: lib/libreel.so tools/template-docs.lua $(wildcard lua/reel/templates/*.lua)
	LUA_PATH="lua/?.lua;;" luajit tools/template-docs.lua > $@.tmp && mv $@.tmp $@

build/tests/%: tests/unit/%.c tests/unit/test.h build/libreel.a lib/reel/reel-decode
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< build/libreel.a $(LDLIBS) -lstdc++

# Drivers the conformance scripts (tests/conformance/*.py) call.
build/tests/nn_probe: tests/conformance/nn_probe.c build/libreel.a
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -o $@ $< build/libreel.a $(LDLIBS) -lstdc++

# Benchmark drivers (bench/bench_*.c): in-process timing through the public API,
# called by the bench/*.py scripts.
build/bench/%: bench/%.c build/libreel.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -o $@ $< build/libreel.a $(LDLIBS) -lstdc++

deps:
	@tools/install-deps.sh

footage:
	@tools/fetch-footage.sh

demo: deps
	$(MAKE) all
	@tools/fetch-footage.sh
	tools/run-demo.sh

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; REEL_DECODER=lib/reel/reel-decode $$t || fail=1; \
	  done; exit $$fail

# Installs missing packages first (a no-op when all are there), then builds in
# a fresh make so that pkg-config sees them.
test: deps
	$(MAKE) all $(UNIT_BIN) $(CONF_BIN)
	@tools/fetch-footage.sh
	tools/run-tests.sh

bench: all
	tools/run-bench.sh

docs: docs/nodes.md docs/templates.md

asan:
	$(MAKE) clean
	$(MAKE) all $(UNIT_BIN) OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDLIBS="$(LDLIBS) -fsanitize=address,undefined"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/share/reel/lua/reel/templates $(DESTDIR)$(PREFIX)/share/reel/include
	install -m 755 lib/libreel.so $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/lib/reel
	install -m 755 lib/reel/reel-decode $(DESTDIR)$(PREFIX)/lib/reel/
	install -m 755 bin/reel $(DESTDIR)$(PREFIX)/bin/
	install -m 644 engine/reel.h $(DESTDIR)$(PREFIX)/share/reel/include/
	install -m 644 lua/reel.lua $(DESTDIR)$(PREFIX)/share/reel/lua/
	cp -r lua/reel/. $(DESTDIR)$(PREFIX)/share/reel/lua/reel/

format:
	clang-format -i engine/*.[ch] engine/*.cpp nodes/*.c tools/*.c tests/unit/*.[ch]

clean:
	rm -rf build lib bin

.PHONY: all deps footage demo unit test bench docs asan install format clean
-include $(shell find build -name '*.d' 2>/dev/null)
