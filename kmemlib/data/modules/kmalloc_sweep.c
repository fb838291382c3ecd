// SPDX-License-Identifier: GPL-2.0
/*
 * kmalloc_sweep.c - an illustrative module written for kmembook (not kernel code).
 *
 * Asks kmalloc() for start, start + step, start + 2 * step, ... bytes until it
 * returns NULL, and prints for every request what ksize() reports and how many
 * of those bytes nobody asked for. Load it on a test machine only: the failing
 * request makes the page allocator print a one-time WARNING with a backtrace
 * (add __GFP_NOWARN to the flags to silence it).
 *
 *   echo 'obj-m += kmalloc_sweep.o' > Kbuild
 *   make -C /lib/modules/$(uname -r)/build M=$PWD modules
 *   sudo insmod kmalloc_sweep.ko step=204800 && sudo dmesg | grep kmalloc_sweep
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>

static unsigned long step = 200 * 1024;
module_param(step, ulong, 0444);
MODULE_PARM_DESC(step, "bytes added to the request at each iteration (default 200 KiB)");

static unsigned long start;
module_param(start, ulong, 0444);
MODULE_PARM_DESC(start, "first request in bytes (default 0)");

static int __init kmalloc_sweep_init(void)
{
	unsigned int i;
	size_t req;

	if (!step)
		return -EINVAL;

	pr_info("step=%lu start=%lu KMALLOC_MAX_CACHE_SIZE=%lu KMALLOC_MAX_SIZE=%lu\n",
		step, start, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE);
	pr_info("%4s %10s %10s %10s %8s  %s\n",
		"i", "request", "actual", "wastage", "waste%", "path");

	for (i = 0, req = start; ; i++, req += step) {
		void *p = kmalloc(req, GFP_KERNEL);
		size_t actual, waste, permille;

		if (!p) {
			pr_info("%4u %10zu %10s %10s %8s  %s\n",
				i, req, "-", "-", "-", "NULL (kmalloc failed)");
			break;
		}
		if (p == ZERO_SIZE_PTR) {	/* kmalloc(0): nothing to use, nothing to free */
			pr_info("%4u %10zu %10zu %10s %8s  %s\n",
				i, req, ksize(p), "-", "-", "ZERO_SIZE_PTR");
			continue;
		}
		actual = ksize(p);		/* bytes really reserved for p */
		waste = actual - req;
		permille = waste * 1000 / actual;	/* no floating point in the kernel */
		pr_info("%4u %10zu %10zu %10zu %5zu.%zu%%  %s\n",
			i, req, actual, waste, permille / 10, permille % 10,
			req <= KMALLOC_MAX_CACHE_SIZE ? "slab" : "pages");
		kfree(p);
	}
	pr_info("done after %u calls\n", i + 1);
	return 0;
}

static void __exit kmalloc_sweep_exit(void)
{
}

module_init(kmalloc_sweep_init);
module_exit(kmalloc_sweep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmembook: kmalloc() requests against ksize() in a loop");
