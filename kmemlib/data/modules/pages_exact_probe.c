// SPDX-License-Identifier: GPL-2.0
/*
 * pages_exact_probe.c - an illustrative module written for kmembook (not kernel code).
 *
 * Allocates "size" bytes (default 33 KiB) twice, first as a whole power-of-two
 * block with __get_free_pages(GFP_KERNEL, get_order(size)), then with
 * alloc_pages_exact(size, GFP_KERNEL), frees each again, and prints after every
 * step how many free blocks of each order and migrate type the zone's buddy
 * free lists hold (the numbers /proc/pagetypeinfo shows). Pages that sit on a
 * CPU's per-CPU page lists are not on those free lists, so they do not appear.
 *
 *   echo 'obj-m += pages_exact_probe.o' > Kbuild
 *   make -C /lib/modules/$(uname -r)/build M=$PWD modules
 *   sudo insmod pages_exact_probe.ko && sudo dmesg | grep pages_exact_probe
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define PROBE_ORDERS NR_PAGE_ORDERS
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define PROBE_ORDERS (MAX_ORDER + 1)	/* MAX_ORDER became inclusive in 6.4 */
#else
#define PROBE_ORDERS MAX_ORDER		/* exclusive before 6.4 */
#endif

static unsigned long size = 33 * 1024;
module_param(size, ulong, 0444);
MODULE_PARM_DESC(size, "bytes to allocate (default 33 KiB)");

/* The zone a GFP_KERNEL request of this node tries first: the highest populated one up to Normal. */
static struct zone *kernel_zone(void)
{
	pg_data_t *pgdat = NODE_DATA(numa_node_id());
	int i;

	for (i = ZONE_NORMAL; i >= 0; i--)
		if (zone_managed_pages(&pgdat->node_zones[i]))
			return &pgdat->node_zones[i];
	return NULL;
}

static void show(struct zone *zone, const char *step, unsigned long pfn)
{
	unsigned long count[MIGRATE_TYPES][PROBE_ORDERS];
	unsigned long flags;
	int o, mt;

	spin_lock_irqsave(&zone->lock, flags);
	for (mt = 0; mt < MIGRATE_TYPES; mt++) {
		for (o = 0; o < PROBE_ORDERS; o++) {
			struct list_head *pos;
			unsigned long n = 0;

			list_for_each(pos, &zone->free_area[o].free_list[mt])
				n++;
			count[mt][o] = n;
		}
	}
	spin_unlock_irqrestore(&zone->lock, flags);

	pr_info("step %s pfn %lu zone %s\n", step, pfn, zone->name);
	for (mt = 0; mt < MIGRATE_TYPES; mt++) {
		char line[16 * PROBE_ORDERS];
		int len = 0;

		for (o = 0; o < PROBE_ORDERS; o++)
			len += scnprintf(line + len, sizeof(line) - len, " %lu", count[mt][o]);
		pr_info("free %s type %d%s\n", step, mt, line);
	}
}

static int __init pages_exact_probe_init(void)
{
	struct zone *zone = kernel_zone();
	unsigned int order = get_order(size);
	unsigned long addr;
	void *buf;

	if (!zone || !size)
		return -EINVAL;
	pr_info("size=%lu order=%u pages=%lu MIGRATE_TYPES=%d MIGRATE_PCPTYPES=%d orders=%d\n",
		size, order, DIV_ROUND_UP(size, PAGE_SIZE), MIGRATE_TYPES, MIGRATE_PCPTYPES, PROBE_ORDERS);
	show(zone, "start", 0);

	addr = __get_free_pages(GFP_KERNEL, order);
	if (!addr)
		return -ENOMEM;
	show(page_zone(virt_to_page((void *)addr)), "get_free_pages", page_to_pfn(virt_to_page((void *)addr)));
	free_pages(addr, order);
	show(zone, "free_pages", page_to_pfn(virt_to_page((void *)addr)));

	buf = alloc_pages_exact(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	show(page_zone(virt_to_page(buf)), "alloc_pages_exact", page_to_pfn(virt_to_page(buf)));
	free_pages_exact(buf, size);
	show(zone, "free_pages_exact", page_to_pfn(virt_to_page(buf)));
	pr_info("done\n");
	return 0;
}

static void __exit pages_exact_probe_exit(void)
{
}

module_init(pages_exact_probe_init);
module_exit(pages_exact_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmembook: __get_free_pages() against alloc_pages_exact() on the buddy free lists");
