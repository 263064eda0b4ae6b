/*
 * LD_PRELOAD shim that fills every fresh aligned allocation (posix_memalign, aligned_alloc, memalign: what libtorch's
 * CPU allocator and oneDNN use) with 0xFF bytes, a float NaN pattern. A kernel that reads memory it never wrote then
 * gives NaN on every run instead of once in a while. Plain malloc is left alone (the .NET runtime uses it).
 *
 *   gcc -O2 -shared -fPIC -o /tmp/poison_allocations.so tests/tools/poison_allocations.c -ldl
 *   LD_PRELOAD=/tmp/poison_allocations.so dotnet test tests/DiffusionSteeringLens.Tests -c Release
 *
 * Found the libtorch conv defect behind Runtime/CpuConv2d's input-channel padding (docs/reliability.md).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static void resolve(void)
{
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
}

int posix_memalign(void **p, size_t alignment, size_t size)
{
    if (!real_posix_memalign) resolve();
    int result = real_posix_memalign(p, alignment, size);
    if (result == 0 && *p) memset(*p, 0xFF, size);
    return result;
}

void *aligned_alloc(size_t alignment, size_t size)
{
    if (!real_aligned_alloc) resolve();
    void *p = real_aligned_alloc(alignment, size);
    if (p) memset(p, 0xFF, size);
    return p;
}

void *memalign(size_t alignment, size_t size)
{
    if (!real_memalign) resolve();
    void *p = real_memalign(alignment, size);
    if (p) memset(p, 0xFF, size);
    return p;
}
