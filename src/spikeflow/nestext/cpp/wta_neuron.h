/*
 *  wta_neuron.h -- spikeflow NEST extension: stochastic soft-max winner-take-all neuron
 *  (Nessler et al. 2013; Klampfl & Maass 2013) with STDP and variance tracking.
 *
 *  Part of spikeflow (GPL-2.0-or-later). Written for the NEST 3.10 C++ API.
 *
 *  Discrete-time equations (one step of length dt = resolution, in ms), step m:
 *
 *    1. per afferent i:  a_i <- a_i * exp(-dt/tau_decay),  b_i <- b_i * exp(-dt/tau_rise),
 *                        then for every spike arriving at step m with amplitude A:
 *                        a_i += A,  b_i += A;        y_i = a_i - b_i            (EPSP, double exponential)
 *    2. u_k = w0 + sum_i w_ki y_i                                                (membrane potential)
 *    3. r_k = R_max exp(u_k - max u) / sum_{j in circuit} exp(u_j - max u)      (Hz)
 *       p_k = r_k * dt / 1000                                                    (spike probability)
 *    4. one uniform draw x per circuit and step: neuron k spikes if x falls in its slice
 *       [sum_{j<k} p_j, sum_{j<=k} p_j) (members ordered by node id). Each neuron spikes with
 *       probability p_k = dt r_k (the NEST-version rule) and at most one neuron per circuit
 *       spikes per step (the ideal WTA; total circuit rate exactly R_max).
 *    5. on a spike of k at step m (and learning on), for every afferent i, with y_i from step m:
 *         eta_ki = eta (Q - S^2) / (exp(-S) + 1)          (variance tracking; eta otherwise)
 *         w_ki  += eta_ki (y_i - exp(w_ki)) / max(exp(w_ki), eta_ki)
 *         S     += eta_ki (w_ki - S),  Q += eta_ki (w_ki^2 - Q)   (with the new w_ki)
 *
 *  The spike of step m carries the time stamp (m + 1) dt. A spike with stamp T and delay d
 *  (steps) arrives at step T + d - 1.
 *
 *  Circuit normalization: all neurons with the same ``circuit`` id form one circuit and must
 *  live on the same virtual process (NEST puts node id n on VP n % num_vps; spikeflow's
 *  network builder lays out node ids accordingly). The first member updated in a time slice
 *  computes the whole slice for all members (steps 1-5); each member then emits its own
 *  spikes and records its own data. A circuit whose member count on its VP differs from
 *  ``circuit_size`` is an error.
 *
 *  Afferents: every incoming connection gets its own afferent slot (its rport, allocated in
 *  handles_test_event), holding w, S, Q and the EPSP traces. The event weight is the EPSP
 *  amplitude A (1 for inputs; u R from wta_stp_synapse for recurrent connections).
 */

#ifndef SPIKEFLOW_WTA_NEURON_H
#define SPIKEFLOW_WTA_NEURON_H

#include <string>
#include <utility>
#include <vector>

#include "archiving_node.h"
#include "connection.h"
#include "event.h"
#include "nest_types.h"
#include "recordables_map.h"
#include "universal_data_logger.h"

namespace spikeflow
{

class wta_neuron;

//! The members of one WTA circuit on one virtual process, and which slice they computed last.
struct WtaCircuit
{
  long id = -1;
  size_t thread = 0;
  std::vector< wta_neuron* > members;  //!< ordered by node id
  long done_until = -1;                //!< first step not yet computed
  bool checked = false;
};

class wta_neuron : public nest::ArchivingNode
{
public:
  wta_neuron();
  wta_neuron( const wta_neuron& );
  ~wta_neuron() override;

  using nest::Node::handle;
  using nest::Node::handles_test_event;

  size_t send_test_event( nest::Node&, size_t, nest::synindex, bool ) override;

  void handle( nest::SpikeEvent& ) override;
  void handle( nest::DataLoggingRequest& ) override;

  size_t handles_test_event( nest::SpikeEvent&, size_t ) override;
  size_t handles_test_event( nest::DataLoggingRequest&, size_t ) override;

  void get_status( Dictionary& ) const override;
  void set_status( const Dictionary& ) override;

  // called by the circuit (same thread)
  double integrate_step_( long step );
  void learn_();
  void record_lag_( long lag, double p );

private:
  void init_buffers_() override;
  void pre_run_hook() override;
  void update( nest::Time const&, const long, const long ) override;

  void register_in_circuit_();
  void leave_circuit_();
  void compute_slice_( WtaCircuit& c, nest::Time const& origin, long from, long to );
  size_t new_afferent_();

  friend class nest::RecordablesMap< wta_neuron >;
  friend class nest::UniversalDataLogger< wta_neuron >;

  struct Parameters_
  {
    long circuit;            //!< circuit id (>= 0)
    long circuit_size;       //!< number of members of the circuit (>= 1)
    double R_max;            //!< total circuit rate (Hz)
    double tau_rise;         //!< EPSP rise time constant (ms)
    double tau_decay;        //!< EPSP decay time constant (ms)
    double eta;              //!< base learning rate
    double w0;               //!< excitability (fixed)
    double w_init;           //!< weight of new afferents
    double S_init;           //!< variance tracking: initial first moment
    double Q_init;           //!< variance tracking: initial second moment
    bool learning;           //!< STDP on/off
    bool variance_tracking;  //!< eta_ki from S, Q (else eta)
    Parameters_();
    void get( Dictionary& ) const;
    void set( const Dictionary& );
  };

  struct State_
  {
    double u;  //!< membrane potential of the last computed step
    double p;  //!< spike probability of the last computed step
    std::vector< double > w, S, Q, a, b, y;  //!< per afferent
    State_();
  };

  struct Buffers_
  {
    Buffers_( wta_neuron& );
    Buffers_( const Buffers_&, wta_neuron& );
    //! arrivals (afferent, amplitude) per step, indexed by step modulo size
    std::vector< std::vector< std::pair< size_t, double > > > arrivals;
    std::vector< long > spike_lags;  //!< spikes computed for the current slice
    std::vector< double > rec_u, rec_p;  //!< per lag of the current slice (for the multimeter)
    nest::UniversalDataLogger< wta_neuron > logger_;
  };

  struct Variables_
  {
    double decay_a, decay_b;  //!< per-step decay factors
    double p_scale;           //!< R_max dt / 1000
  };

  double
  get_u_() const
  {
    return S_.u;
  }
  double
  get_p_() const
  {
    return S_.p;
  }

  Parameters_ P_;
  State_ S_;
  Variables_ V_;
  Buffers_ B_;
  WtaCircuit* circuit_;

  static nest::RecordablesMap< wta_neuron > recordablesMap_;
};

inline size_t
wta_neuron::send_test_event( nest::Node& target, size_t receptor_type, nest::synindex, bool )
{
  nest::SpikeEvent e;
  e.set_sender( *this );
  return target.handles_test_event( e, receptor_type );
}

inline size_t
wta_neuron::handles_test_event( nest::SpikeEvent&, size_t receptor_type )
{
  if ( receptor_type != 0 )
  {
    throw nest::UnknownReceptorType( receptor_type, get_name() );
  }
  return new_afferent_();
}

inline size_t
wta_neuron::handles_test_event( nest::DataLoggingRequest& dlr, size_t receptor_type )
{
  if ( receptor_type != 0 )
  {
    throw nest::UnknownReceptorType( receptor_type, get_name() );
  }
  return B_.logger_.connect_logging_device( dlr, recordablesMap_ );
}

void register_wta_neuron( const std::string& name );

}  // namespace spikeflow

#endif
