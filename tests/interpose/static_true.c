/* static_true.c - a statically linked program that does nothing: `ctrace
 * run` must warn that it cannot trace it, and still run it. */
int main(void)
{
    return 0;
}
