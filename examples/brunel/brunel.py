"""Brunel (2000) balanced random network, model A: sparse E/I network of LIF neurons with delta synapses.

A model of your own for spikeflow (see docs/your-model.md): parameters as data (``params``),
the network as NEST calls (``create``, ``connect``), and what spikeflow needs to plan a run
(``populations``, ``connections``). Everything else - validation, sweeps, threads and MPI ranks,
Slurm resources, the spikes file, the analyses and the report - comes from spikeflow.

Parameters follow Brunel (2000), J. Comput. Neurosci. 8:183, with the values of NEST's
``brunel_delta_nest`` example: N_E = 4 N_I, each neuron receives C_E = epsilon N_E excitatory
and C_I = epsilon N_I inhibitory inputs of J and -g J (mV), after a delay D, plus C_E external
Poisson inputs of rate eta nu_thr, where nu_thr = theta / (J C_E tau_m) is the external rate that
brings the free membrane potential to threshold.
"""

from spikeflow import Model, Network, Param


class Brunel(Model):
    """The balanced random network of Brunel (2000), model A (delta synapses)."""

    params = {
        "order": Param(500, "network size: N_E = 4 order excitatory and N_I = order inhibitory neurons", minimum=1),
        "epsilon": Param(0.1, "connection probability (in-degrees C = epsilon N)", exclusive_minimum=0, maximum=1),
        "g": Param(5.0, "relative strength of inhibition", minimum=0),
        "eta": Param(2.0, "external rate relative to the threshold rate", minimum=0),
        "J": Param(0.1, "excitatory synaptic weight (PSP amplitude)", unit="mV", minimum=0),
        "delay": Param(1.5, "synaptic delay", unit="ms", exclusive_minimum=0),
        "tau_m": Param(20.0, "membrane time constant", unit="ms", exclusive_minimum=0),
        "theta": Param(20.0, "firing threshold above rest", unit="mV", exclusive_minimum=0),
        "V_reset": Param(10.0, "reset potential above rest", unit="mV"),
        "t_ref": Param(2.0, "refractory period", unit="ms", minimum=0),
    }

    def derive(self, p):
        n_e, n_i = 4 * p.order, p.order
        c_e, c_i = int(p.epsilon * n_e), int(p.epsilon * n_i)
        nu_thr = p.theta / (p.J * c_e * p.tau_m)  # spikes/ms
        return {
            "N_E": n_e,
            "N_I": n_i,
            "C_E": c_e,
            "C_I": c_i,
            "nu_thr_hz": 1000.0 * nu_thr,
            "poisson_rate_hz": 1000.0 * p.eta * nu_thr * c_e,  # one generator stands for C_E inputs
        }

    def populations(self, p):
        d = self.derive(p)
        return {"E": d["N_E"], "I": d["N_I"]}

    def connections(self, p):
        d = self.derive(p)
        n = d["N_E"] + d["N_I"]
        return {"static_synapse": n * (d["C_E"] + d["C_I"]) + n}  # recurrent + one Poisson input each

    def create(self, p):
        import nest

        d = self.derive(p)
        neuron = {"C_m": 1.0, "tau_m": p.tau_m, "t_ref": p.t_ref, "E_L": 0.0, "V_reset": p.V_reset, "V_m": 0.0, "V_th": p.theta}
        exc = nest.Create("iaf_psc_delta", d["N_E"], params=neuron)
        inh = nest.Create("iaf_psc_delta", d["N_I"], params=neuron)
        noise = nest.Create("poisson_generator", params={"rate": d["poisson_rate_hz"]})
        return Network(populations={"E": exc, "I": inh}, devices={"noise": noise})

    def connect(self, net, p):
        import nest

        d = self.derive(p)
        everyone = net.populations["E"] + net.populations["I"]
        excitatory = {"synapse_model": "static_synapse", "weight": p.J, "delay": p.delay}
        inhibitory = {"synapse_model": "static_synapse", "weight": -p.g * p.J, "delay": p.delay}
        nest.Connect(net.devices["noise"], everyone, "all_to_all", excitatory)
        nest.Connect(net.populations["E"], everyone, {"rule": "fixed_indegree", "indegree": d["C_E"]}, excitatory)
        nest.Connect(net.populations["I"], everyone, {"rule": "fixed_indegree", "indegree": d["C_I"]}, inhibitory)
