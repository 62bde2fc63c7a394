/*
 * dlopen_stacks.c - a program that dlopens a module built without frame
 * pointers (nofp_plugin.c) and sleeps in it, called through a function of
 * its own (dlopen_stacks_caller): under `ctrace run` with the default stack
 * mode, the sleep's stack must go through the module's frame and on to
 * the caller and main (dlopen_stacks.sh), although the module was loaded
 * after the generation's module map was built.
 *
 *   dlopen_stacks PLUGIN.so
 */
#include <dlfcn.h>
#include <stdio.h>

__attribute__((noinline)) static int dlopen_stacks_caller(int (*fn)(long))
{
    int r = fn(10);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dlopen_stacks PLUGIN.so\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW);
    int (*fn)(long) = h ? (int (*)(long))dlsym(h, "nofp_plugin_sleep") : NULL;
    if (!fn) {
        fprintf(stderr, "dlopen_stacks: %s\n", dlerror());
        return 1;
    }
    return dlopen_stacks_caller(fn) == 0 ? 0 : 1;
}
