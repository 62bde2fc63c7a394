/*
 * plugin.c - a shared object the symbolizer test dlopens after creating its
 * symbolizer, to check that modules loaded later are found.
 */
__attribute__((noinline)) int ct_test_plugin_fn(int x)
{
    return x * 3 + 1;
}
