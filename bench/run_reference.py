"""Run the reference PyNEST implementation (PyPI package ``microcircuit``) once and report its
phase times, peak memory and spikes location as JSON on the last line of stdout.

Usage: python run_reference.py SCALE THREADS SEED T_PRESIM T_SIM OUT_DIR

Mirrors the reference's own ``run_example`` (create, connect with Prepare/Cleanup, presimulate,
simulate), with Poisson background (its DC default is silent at scale 0.1).
"""

import copy
import json
import resource
import sys
import time

import nest
from microcircuit.network import Network
from microcircuit.network_params import default_net_dict
from microcircuit.sim_params import default_sim_dict
from microcircuit.stimulus_params import default_stim_dict


def main() -> None:
    scale, threads, seed = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    t_presim, t_sim, out_dir = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    net_dict = copy.deepcopy(default_net_dict)
    net_dict.update(N_scaling=scale, K_scaling=scale, bg_input_type="poisson")
    sim_dict = copy.deepcopy(default_sim_dict)
    sim_dict.update(
        data_path=out_dir.rstrip("/") + "/", local_num_threads=threads, rng_seed=seed,
        t_presim=t_presim, t_sim=t_sim, print_time=False,
    )
    stim_dict = copy.deepcopy(default_stim_dict)

    phases = {}
    t = time.perf_counter()
    net = Network(sim_dict, net_dict, stim_dict)
    phases["init"], t = time.perf_counter() - t, time.perf_counter()
    net.create()
    phases["create"], t = time.perf_counter() - t, time.perf_counter()
    net.connect()
    phases["connect"], t = time.perf_counter() - t, time.perf_counter()
    net.simulate(t_presim)
    phases["presimulate"], t = time.perf_counter() - t, time.perf_counter()
    net.simulate(t_sim)
    phases["simulate"] = time.perf_counter() - t
    print(json.dumps({
        "phases_s": phases,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "num_connections": nest.num_connections,
        "populations": [[int(p[0].global_id), int(p[-1].global_id)] for p in net.pops],
    }))


if __name__ == "__main__":
    main()
