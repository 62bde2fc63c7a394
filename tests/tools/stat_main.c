/* stat_main.c - runs cmd_stat() as a program: stat_main ARGS... is
 * `ctrace stat ARGS...`.  Used by the stat tests, linked either with the
 * ctrace reader library or with stat_dumpreader.c. */
int cmd_stat(int argc, char **argv);

int main(int argc, char **argv)
{
    argv[0] = "stat";
    return cmd_stat(argc, argv);
}
