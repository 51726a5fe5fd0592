/*
 * wl_scan CONFIG CORPUS — watchlistd's matcher alone, for tests/bench/run.
 *
 * Loads CONFIG through the real configuration loader (parse, validate,
 * compile the watchlist and the rules: timed as the load), reads CORPUS as
 * `watchlistd match` does (doc_load: one document, however large), then
 * times watchlist_scan() over it, the call `match --count` makes.  Prints
 * one JSON object:
 *
 *   {"count":HITS,"bytes":N,"load_s":S,"scan_s":S,"load_rss_kb":K}
 *
 * load_rss_kb is the peak resident size after loading, before the corpus is
 * read: what the program with its compiled watchlist costs.  Exit 0, or 1
 * on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "doc.h"
#include "watchlist.h"

static double
wl_scan_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The peak resident size so far, in KiB: VmHWM of /proc/self/status, which
 * belongs to this program's address space.  getrusage()'s ru_maxrss would
 * also count the memory of the process that forked us (Linux keeps it
 * across execve), here a Python driver several times our size.
 */
static long
wl_scan_hwm_kb(void)
{
	struct rusage ru;
	char line[256];
	long kb = -1;
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof line, fp) != NULL) {
			if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
				break;
		}
		fclose(fp);
	}
	if (kb < 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		kb = ru.ru_maxrss;
	return kb;
}

int
main(int argc, char **argv)
{
	struct watchlist_hits hits;
	struct config *cf;
	struct doc *d;
	double t0, load_s, scan_s;
	long load_rss;
	char *cause;

	if (argc != 3) {
		fprintf(stderr, "usage: wl_scan CONFIG CORPUS\n");
		return 1;
	}

	t0 = wl_scan_now();
	cf = config_load(argv[1]);
	load_s = wl_scan_now() - t0;
	if (cf->nerrors > 0) {
		config_print_diags(cf, stderr);
		config_free(cf);
		return 1;
	}
	load_rss = wl_scan_hwm_kb();

	d = doc_load(argv[2], cf->daemon.max_document_size, &cause);
	if (d == NULL) {
		fprintf(stderr, "wl_scan: %s: %s\n", argv[2], cause);
		free(cause);
		config_free(cf);
		return 1;
	}

	watchlist_hits_init(&hits);
	t0 = wl_scan_now();
	watchlist_scan(cf->wl, d->text, d->textlen, &hits);
	scan_s = wl_scan_now() - t0;

	printf("{\"count\":%zu,\"bytes\":%zu,\"load_s\":%.6f,\"scan_s\":%.6f,"
	       "\"load_rss_kb\":%ld}\n",
	    hits.n, d->textlen, load_s, scan_s, load_rss);

	watchlist_hits_release(&hits);
	doc_free(d);
	config_free(cf);
	return 0;
}
