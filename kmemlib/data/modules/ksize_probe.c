// SPDX-License-Identifier: GPL-2.0
/*
 * ksize_probe.c - an illustrative module written for kmembook (not kernel code).
 *
 * For every size in "sizes" it asks kmalloc() for that many bytes and prints
 * what ksize() reports for the object and what kmalloc_size_roundup() (Linux
 * 6.1+) says beforehand. The default sizes, in ascending order, are the ones
 * Part II of the book discusses (class boundaries 64/65, 96/97, 128/129,
 * 192/193, ..., the KMALLOC_MAX_CACHE_SIZE edge 8192/8193, the KMALLOC_MAX_SIZE
 * edge 4194304/4194305) and the requests of the ksize() experiments in the book
 * "Linux Kernel Programming" (ch. 8): a 20-byte structure, and 100 bytes plus
 * k * 204800 for k = 0..21, whose last request, 4300900, fails. A failing
 * request prints NULL (__GFP_NOWARN keeps the log quiet).
 *
 *   echo 'obj-m += ksize_probe.o' > Kbuild
 *   make -C /lib/modules/$(uname -r)/build M=$PWD modules
 *   sudo insmod ksize_probe.ko && sudo dmesg | grep ksize_probe
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>

static unsigned long sizes[64] = {
	0, 1, 8, 9, 16, 17, 20, 32, 33, 64, 65, 96, 97, 100, 128, 129, 192, 193, 256, 257, 512, 513, 1000,
	1024, 1025, 2048, 2049, 4096, 4097, 8192, 8193, 16385, 100000, 204900, 409700, 614500, 819300,
	1024100, 1228900, 1433700, 1638500, 1843300, 2048100, 2097152, 2097153, 2252900, 2457700, 2662500,
	2867300, 3072100, 3276900, 3481700, 3686500, 3891300, 4096100, 4194304, 4194305, 4300900,
};
static unsigned int nr_sizes = 58;
module_param_array(sizes, ulong, &nr_sizes, 0444);
MODULE_PARM_DESC(sizes, "request sizes in bytes, comma separated (at most 64)");

static int __init ksize_probe_init(void)
{
	unsigned int i;

	pr_info("KMALLOC_MAX_CACHE_SIZE=%lu KMALLOC_MAX_SIZE=%lu PAGE_SIZE=%lu\n",
		KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, PAGE_SIZE);
	pr_info("%10s %10s %10s  %s\n", "request", "roundup", "ksize", "result");
	for (i = 0; i < nr_sizes; i++) {
		size_t req = sizes[i];
		size_t roundup = kmalloc_size_roundup(req);
		void *p = kmalloc(req, GFP_KERNEL | __GFP_NOWARN);

		if (!p)
			pr_info("%10zu %10zu %10s  %s\n", req, roundup, "-", "NULL");
		else if (p == ZERO_SIZE_PTR)
			pr_info("%10zu %10zu %10zu  %s\n", req, roundup, ksize(p), "ZERO_SIZE_PTR");
		else
			pr_info("%10zu %10zu %10zu  %s\n", req, roundup, ksize(p),
				req <= KMALLOC_MAX_CACHE_SIZE ? "slab" : "pages");
		kfree(p);
	}
	pr_info("done\n");
	return 0;
}

static void __exit ksize_probe_exit(void)
{
}

module_init(ksize_probe_init);
module_exit(ksize_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmembook: ksize() and kmalloc_size_roundup() for chosen request sizes");
