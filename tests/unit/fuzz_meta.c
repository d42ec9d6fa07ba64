/*  fuzz_meta - fuzz target for the metadata scanner (common/hearth_meta).

    LLVMFuzzerTestOneInput runs every reader on arbitrary bytes and checks
    the invariants that hold whatever the input: the scanners agree with
    each other, every entry lies inside the buffer, and a map the writer
    builds from a valid one is valid again. Built with -DHEARTH_FUZZ=ON it
    is a libFuzzer target; otherwise main() replays each file of the
    corpus directories given on the command line, as an ordinary test.
*/
#include "hearth_meta.h"
#include "hearth/hearth_proto.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  An invariant broken: report and abort, so libFuzzer keeps the input.    */
#define FUZZ_REQUIRE(expr) \
    do { \
        if (!(expr)) { \
            fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
                     __LINE__, #expr); \
            abort (); \
        } \
    } while (0)

/*  Reads every entry, decoding each value every way; returns the number of
    entries, or -2 if the map is malformed.                                  */
static int
s_walk (const uint8_t *data, size_t size)
{
    hearth_meta_iter_t iter;
    hearth_meta_entry_t entry;
    if (hearth_meta_iter_init (&iter, data, size))
        return -2;
    int count = 0, rc;
    while ((rc = hearth_meta_iter_next (&iter, &entry)) == 1) {
        FUZZ_REQUIRE (entry.entry >= data
                      && entry.entry + entry.entry_size <= data + size);
        FUZZ_REQUIRE (entry.value > entry.entry && entry.value_size > 0
                      && entry.value + entry.value_size
                         == entry.entry + entry.entry_size);
        if (entry.key)
            FUZZ_REQUIRE ((const uint8_t *) entry.key + entry.key_len
                          <= entry.value);
        uint64_t number;
        bool flag;
        const char *str;
        size_t len;
        if (hearth_meta_value_str (&entry, &str, &len) == 0)
            FUZZ_REQUIRE ((const uint8_t *) str + len
                          <= entry.value + entry.value_size);
        (void) hearth_meta_value_uint (&entry, &number);
        (void) hearth_meta_value_bool (&entry, &flag);
        if (entry.key) {
            /*  find must see the same first entry for this key.             */
            char key[64];
            if (entry.key_len < sizeof key
                && memchr (entry.key, 0, entry.key_len) == NULL) {
                memcpy (key, entry.key, entry.key_len);
                key[entry.key_len] = 0;
                hearth_meta_entry_t found;
                FUZZ_REQUIRE (hearth_meta_find (data, size, key, &found) == 1);
                FUZZ_REQUIRE (found.entry <= entry.entry);
            }
        }
        count++;
    }
    return rc == 0 ? count : -2;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int count = s_walk (data, size);
    FUZZ_REQUIRE ((count >= 0) == (hearth_meta_validate (data, size) == 0));
    int64_t object = hearth_meta_object_size (data, size);
    FUZZ_REQUIRE (object == -2 || (object > 0 && (size_t) object <= size));
    if (count >= 0 && size > 0)
        FUZZ_REQUIRE ((size_t) object == size);

    /*  Copy through the writer, skipping one key: the result must be a
        valid map with every entry but the skipped ones.                      */
    static const char *const skip[] = { "deadline", NULL };
    hearth_meta_writer_t writer;
    hearth_meta_writer_init (&writer);
    int rc = hearth_meta_copy (&writer, data, size, skip);
    FUZZ_REQUIRE ((rc == 0) == (count >= 0));
    if (rc == 0) {
        hearth_meta_put_uint (&writer, "deadline", 1);
        size_t copy_size = 0;
        uint8_t *copy = hearth_meta_writer_to_buffer (&writer, &copy_size);
        FUZZ_REQUIRE (copy != NULL);
        int copied = s_walk (copy, copy_size);
        FUZZ_REQUIRE (copied >= 1 && copied <= count + 1);
        hearth_meta_entry_t entry;
        FUZZ_REQUIRE (hearth_meta_find (copy, copy_size, "deadline", &entry)
                      == 1);
        free (copy);
    }
    hearth_meta_writer_destroy (&writer);
    return 0;
}

#ifndef HEARTH_FUZZ_ENGINE

/*  Replays one file; returns 0, or -1 if it could not be read.             */
static int
s_replay_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    /*  Fresh, exactly-sized heap buffer: ASan catches any read past it.    */
    uint8_t *data = malloc (HEARTH_META_MAX * 4);
    size_t size = data ? fread (data, 1, HEARTH_META_MAX * 4, file) : 0;
    fclose (file);
    if (!data)
        return -1;
    uint8_t *exact = malloc (size ? size : 1);
    if (exact) {
        memcpy (exact, data, size);
        LLVMFuzzerTestOneInput (exact, size);
        /*  Every prefix too: truncation is the commonest hostile input.    */
        for (size_t cut = 0; cut < size && cut < 512; cut++)
            LLVMFuzzerTestOneInput (exact, cut);
    }
    free (exact);
    free (data);
    return exact ? 0 : -1;
}

int
main (int argc, char *argv[])
{
    int files = 0;
    for (int arg = 1; arg < argc; arg++) {
        DIR *dir = opendir (argv[arg]);
        if (!dir) {
            if (s_replay_file (argv[arg])) {
                fprintf (stderr, "fuzz_meta: cannot read %s: %s\n", argv[arg],
                         strerror (errno));
                return 77;
            }
            files++;
            continue;
        }
        struct dirent *item;
        while ((item = readdir (dir)) != NULL) {
            if (item->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", argv[arg], item->d_name);
            if (s_replay_file (path)) {
                fprintf (stderr, "fuzz_meta: cannot read %s\n", path);
                closedir (dir);
                return 1;
            }
            files++;
        }
        closedir (dir);
    }
    printf ("fuzz_meta: replayed %d files\n", files);
    /*  An empty corpus proves nothing: skip rather than pass.               */
    return files ? 0 : 77;
}

#endif
