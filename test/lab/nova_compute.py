#!/usr/bin/python3
"""nova-compute for the lab, run from python3-nova without the nova-compute
package (which would pull in qemu and libvirt). test/lab is put on sys.path so
`compute_driver` can also name a lab driver module kept next to this file."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.argv[0] = "nova-compute"

from nova.cmd.compute import main  # noqa: E402  (importing nova.cmd monkey-patches eventlet)

sys.exit(main())
