"""The HMP command table as data: name (with aliases), ``args_type`` spec and usage line.

Written from QEMU 7.2's ``hmp-commands.hx`` and ``hmp-commands-info.hx`` for
x86 (q35); the names, argument specs and usage lines are facts of QEMU's
interface.  ``VERSION_NOTES`` says where QEMU 10.0 differs.  The spec
language is QEMU's (see ``qmpshell.hmp.args``): ``name:TYPE`` with ``?`` for
optional, ``-f`` for a flag, ``-fs`` for a flag that takes a string.
"""

from __future__ import annotations

from qmpshell.records import NamedTuple


class Spec(NamedTuple):
    """One HMP command: its names, argument spec and usage line."""

    names: tuple[str, ...]  # the first is the name, the rest aliases (``cont|c``)
    args_type: str
    params: str

    @property
    def name(self) -> str:
        return self.names[0]


# name|aliases, args_type, params (the usage shown by ``help``)
_COMMANDS = (
    ("announce_self", "interfaces:s?,id:s?", "[interfaces] [id]"),
    ("balloon", "value:M", "target"),
    ("block_job_cancel", "force:-f,device:B", "[-f] device"),
    ("block_job_complete", "device:B", "device"),
    ("block_job_pause", "device:B", "device"),
    ("block_job_resume", "device:B", "device"),
    ("block_job_set_speed", "device:B,speed:o", "device speed"),
    ("block_resize", "device:B,size:o", "device size"),
    (
        "block_set_io_throttle",
        "device:B,bps:l,bps_rd:l,bps_wr:l,iops:l,iops_rd:l,iops_wr:l",
        "device bps bps_rd bps_wr iops iops_rd iops_wr",
    ),
    ("block_stream", "device:B,speed:o?,base:s?", "device [speed [base]]"),
    ("boot_set", "bootdevice:s", "bootdevice"),
    (
        "calc_dirty_rate",
        "dirty_ring:-r,dirty_bitmap:-b,second:l,sample_pages_per_GB:l?",
        "[-r] [-b] second [sample_pages_per_GB]",
    ),
    ("cancel_vcpu_dirty_limit", "cpu_index:l?", "[cpu_index]"),
    (
        "change",
        "device:B,force:-f,target:F,arg:s?,read-only-mode:s?",
        "device [-f] filename [format [read-only-mode]]",
    ),
    ("chardev-add", "args:s", "args"),
    ("chardev-change", "id:s,args:s", "id args"),
    ("chardev-remove", "id:s", "id"),
    ("chardev-send-break", "id:s", "id"),
    (
        "client_migrate_info",
        "protocol:s,hostname:s,port:i?,tls-port:i?,cert-subject:s?",
        "protocol hostname port tls-port cert-subject",
    ),
    ("closefd", "fdname:s", "closefd name"),
    ("commit", "device:B", "device|all"),
    ("cont|c", "", ""),
    ("cpu", "index:i", "index"),
    ("delvm", "name:s", "tag"),
    ("device_add", "device:O", "driver[,prop=value][,...]"),
    ("device_del", "id:s", "device"),
    ("drive_add", "node:-n,pci_addr:s,opts:s", "[-n] [[<domain>:]<bus>:]<slot>"),
    (
        "drive_backup",
        "reuse:-n,full:-f,compress:-c,device:B,target:s,format:s?",
        "[-n] [-f] [-c] device target [format]",
    ),
    ("drive_del", "id:B", "device"),
    ("drive_mirror", "reuse:-n,full:-f,device:B,target:s,format:s?", "[-n] [-f] device target [format]"),
    (
        "dump-guest-memory",
        "paging:-p,detach:-d,windmp:-w,zlib:-z,lzo:-l,snappy:-s,filename:F,begin:l?,length:l?",
        "[-p] [-d] [-z|-l|-s|-w] filename [begin length]",
    ),
    ("dumpdtb", "filename:F", "filename"),
    ("eject", "force:-f,device:B", "[-f] device"),
    ("exit_preconfig", "", ""),
    ("expire_password", "protocol:s,time:s,display:-ds", "protocol time [-d display]"),
    ("gdbserver", "device:s?", "[device]"),
    ("getfd", "fdname:s", "getfd name"),
    ("gpa2hpa", "addr:l", "addr"),
    ("gpa2hva", "addr:l", "addr"),
    ("gva2gpa", "addr:l", "addr"),
    ("help|?", "name:S?", "[cmd]"),
    ("hostfwd_add", "arg1:s,arg2:s?", "[netdev_id] [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport"),
    ("hostfwd_remove", "arg1:s,arg2:s?", "[netdev_id] [tcp|udp]:[hostaddr]:hostport"),
    ("i", "fmt:/,addr:i,index:i.", "/fmt addr"),
    ("info", "item:s?", "[subcommand]"),
    ("loadvm", "name:s", "tag"),
    ("log", "items:s", "item1[,...]"),
    ("logfile", "filename:F", "filename"),
    (
        "mce",
        "broadcast:-b,cpu_index:i,bank:i,status:l,mcg_status:l,addr:l,misc:l",
        "[-b] cpu bank status mcgstatus addr misc",
    ),
    ("memsave", "val:l,size:i,filename:s", "addr size file"),
    ("migrate", "detach:-d,blk:-b,inc:-i,resume:-r,uri:s", "[-d] [-b] [-i] [-r] uri"),
    ("migrate_cancel", "", ""),
    ("migrate_continue", "state:s", "state"),
    ("migrate_incoming", "uri:s", "uri"),
    ("migrate_pause", "", ""),
    ("migrate_recover", "uri:s", "uri"),
    ("migrate_set_capability", "capability:s,state:b", "capability state"),
    ("migrate_set_parameter", "parameter:s,value:s", "parameter value"),
    ("migrate_start_postcopy", "", ""),
    ("mouse_button", "button_state:i", "state"),
    ("mouse_move", "dx_str:s,dy_str:s,dz_str:s?", "dx dy [dz]"),
    ("mouse_set", "index:i", "index"),
    ("nbd_server_add", "writable:-w,device:B,name:s?", "nbd_server_add [-w] device [name]"),
    ("nbd_server_remove", "force:-f,name:s", "nbd_server_remove [-f] name"),
    ("nbd_server_start", "all:-a,writable:-w,uri:s", "nbd_server_start [-a] [-w] host:port"),
    ("nbd_server_stop", "", "nbd_server_stop"),
    (
        "netdev_add",
        "netdev:O",
        "[user|tap|socket|stream|dgram|vde|bridge|hubport|netmap|vhost-user],id=str[,prop=value][,...]",
    ),
    ("netdev_del", "id:s", "id"),
    ("nmi", "", ""),
    ("o", "fmt:/,addr:i,val:i", "/fmt addr value"),
    ("object_add", "object:S", "[qom-type=]type,id=str[,prop=value][,...]"),
    ("object_del", "id:s", "id"),
    (
        "pcie_aer_inject_error",
        "advisory_non_fatal:-a,correctable:-c,id:s,error_status:s,header0:i?,header1:i?,header2:i?,"
        "header3:i?,prefix0:i?,prefix1:i?,prefix2:i?,prefix3:i?",
        "[-a] [-c] id <error_status> [<tlp header> [<tlp header prefix>]]",
    ),
    ("pmemsave", "val:l,size:i,filename:s", "addr size file"),
    ("print|p", "fmt:/,val:l", "/fmt expr"),
    ("qemu-io", "qdev:-d,device:B,command:s", '[-d] [device] "[command]"'),
    ("qom-get", "path:s,property:s", "path property"),
    ("qom-list", "path:s?", "path"),
    ("qom-set", "json:-j,path:s,property:s,value:S", "[-j] path property value"),
    ("quit|q", "", ""),
    ("replay_break", "icount:l", "icount"),
    ("replay_delete_break", "", ""),
    ("replay_seek", "icount:l", "icount"),
    ("ringbuf_read", "device:s,size:i", "device size"),
    ("ringbuf_write", "device:s,data:s", "device data"),
    ("savevm", "name:s?", "tag"),
    ("screendump", "filename:F,format:-fs,device:s?,head:i?", "filename [-f format] [device [head]]"),
    ("sendkey", "keys:s,hold-time:i?", "keys [hold_ms]"),
    ("set_link", "name:s,up:b", "name on|off"),
    (
        "set_password",
        "protocol:s,password:s,display:-ds,connected:s?",
        "protocol password [-d display] [action-if-connected]",
    ),
    ("set_vcpu_dirty_limit", "dirty_rate:l,cpu_index:l?", "dirty_rate [cpu_index]"),
    ("singlestep", "option:s?", "[on|off]"),
    (
        "snapshot_blkdev",
        "reuse:-n,device:B,snapshot-file:s?,format:s?",
        "[-n] device [new-image-file] [format]",
    ),
    ("snapshot_blkdev_internal", "device:B,name:s", "device name"),
    ("snapshot_delete_blkdev_internal", "device:B,name:s,id:s?", "device name [id]"),
    ("stopcapture", "n:i", "capture index"),
    ("stop|s", "", ""),
    ("sum", "start:i,size:i", "addr size"),
    ("sync-profile", "op:s?", "[on|off|reset]"),
    ("system_powerdown", "", ""),
    ("system_reset", "", ""),
    ("system_wakeup", "", ""),
    ("trace-event", "name:s,option:b,vcpu:i?", "name on|off [vcpu]"),
    ("watchdog_action", "action:s", "[reset|shutdown|poweroff|pause|debug|none]"),
    (
        "wavcapture",
        "path:F,audiodev:s,freq:i?,bits:i?,nchannels:i?",
        "path audiodev [frequency [bits [channels]]]",
    ),
    ("x", "fmt:/,addr:l", "/fmt addr"),
    ("x_colo_lost_heartbeat", "", ""),
    ("xp", "fmt:/,addr:l", "/fmt addr"),
)

_INFO = (
    ("balloon", "", ""),
    ("block", "nodes:-n,verbose:-v,device:B?", "[-n] [-v] [device]"),
    ("block-jobs", "", ""),
    ("blockstats", "", ""),
    ("capture", "", ""),
    ("chardev", "", ""),
    ("cpus", "", ""),
    ("dirty_rate", "", ""),
    ("dump", "", ""),
    ("history", "", ""),
    ("hotpluggable-cpus", "", ""),
    ("iothreads", "", ""),
    ("irq", "", ""),
    ("jit", "", ""),
    ("kvm", "", ""),
    ("lapic", "apic-id:i?", "[apic-id]"),
    ("mem", "", ""),
    ("memdev", "", ""),
    ("memory-devices", "", ""),
    ("memory_size_summary", "", ""),
    ("mice", "", ""),
    ("migrate", "", ""),
    ("migrate_capabilities", "", ""),
    ("migrate_parameters", "", ""),
    ("mtree", "flatview:-f,dispatch_tree:-d,owner:-o,disabled:-D", "[-f][-d][-o][-D]"),
    ("name", "", ""),
    ("network", "", ""),
    ("numa", "", ""),
    ("opcount", "", ""),
    ("pci", "", ""),
    ("pic", "", ""),
    ("profile", "", ""),
    ("qdm", "", ""),
    ("qom-tree", "path:s?", "[path]"),
    ("qtree", "", ""),
    ("ramblock", "", ""),
    ("rdma", "", ""),
    ("registers", "cpustate_all:-a,vcpu:i?", "[-a|vcpu]"),
    ("replay", "", ""),
    ("rocker", "name:s", "name"),
    ("rocker-of-dpa-flows", "name:s,tbl_id:i?", "name [tbl_id]"),
    ("rocker-of-dpa-groups", "name:s,type:i?", "name [type]"),
    ("rocker-ports", "name:s", "name"),
    ("roms", "", ""),
    ("sev", "", ""),
    ("sgx", "", ""),
    ("snapshots", "", ""),
    ("spice", "", ""),
    ("stats", "target:s,names:s?,provider:s?", "target [names] [provider]"),
    ("status", "", ""),
    ("sync-profile", "mean:-m,no_coalesce:-n,max:i?", "[-m] [-n] [max]"),
    ("tlb", "", ""),
    ("tpm", "", ""),
    ("trace-events", "name:s?,vcpu:i?", "[name] [vcpu]"),
    ("usb", "", ""),
    ("usbhost", "", ""),
    ("usernet", "", ""),
    ("uuid", "", ""),
    ("vcpu_dirty_limit", "", ""),
    ("version", "", ""),
    ("virtio", "", ""),
    ("virtio-queue-element", "path:s,queue:i,index:i?", "path queue [index]"),
    ("virtio-queue-status", "path:s,queue:i", "path queue"),
    ("virtio-status", "path:s", "path"),
    ("virtio-vhost-queue-status", "path:s,queue:i", "path queue"),
    ("vm-generation-id", "", ""),
    ("vnc", "", ""),
)

# Where QEMU 10.0 differs from the 7.2 table above (facts from its ``help``).
VERSION_NOTES = {
    "migrate": "10.0: detach:-d,resume:-r,uri:s (the -b and -i block migration flags are gone)",
    "dump-guest-memory": "10.0: adds -R (raw output of compressed kdump)",
    "singlestep": "10.0: renamed one-insn-per-tb (singlestep stays an alias in user docs)",
    "watchdog_action": "10.0: adds inject-nmi",
    "info profile": "10.0: removed",
    "info rdma": "10.0: removed",
    "info qtree": "10.0: takes -b (brief)",
    "info cryptodev": "10.0: new (query-cryptodev)",
    "xen-event-inject": "10.0: new (xen only)",
    "xen-event-list": "10.0: new (xen only)",
}

# Commands that newer QEMUs have; translated when the server offers their QMP command.
_NEWER_COMMANDS = (
    ("one-insn-per-tb", "option:s?", "[on|off]"),
    ("xen-event-inject", "port:i", "port"),
    ("xen-event-list", "", ""),
)
_NEWER_INFO = (("cryptodev", "", ""),)


def _specs(rows: tuple[tuple[str, str, str], ...]) -> dict[str, Spec]:
    table: dict[str, Spec] = {}
    for names, args_type, params in rows:
        spec = Spec(tuple(names.split("|")), args_type, params)
        for name in spec.names:
            table[name] = spec
    return table


COMMANDS = _specs(_COMMANDS + _NEWER_COMMANDS)  # by name and alias
INFO = _specs(_INFO + _NEWER_INFO)
QEMU_72_COMMANDS = tuple(row[0].split("|")[0] for row in _COMMANDS)
QEMU_72_INFO = tuple(row[0] for row in _INFO)


def usage(name: str) -> str:
    """``name params`` as HMP's help writes it (``info NAME`` for a subcommand); '' if unknown."""
    if name.startswith("info "):
        spec = INFO.get(name[5:].strip())
        return f"info {spec.name} {spec.params}".rstrip() if spec else ""
    spec = COMMANDS.get(name)
    return f"{'|'.join(spec.names)} {spec.params}".rstrip() if spec else ""
