/*
 *  wta_stp_synapse.h -- spikeflow NEST extension: short-term plasticity of the recurrent
 *  connections of the Klampfl & Maass (2013) WTA network.
 *
 *  Part of spikeflow (GPL-2.0-or-later). Written for the NEST 3.10 C++ API.
 *
 *  The event weight is the EPSP amplitude A = weight * u * R, taken from the state *before*
 *  this spike's update (as in the original code). Then, with the interval Delta (ms) since
 *  this connection's previous spike (infinite for the first spike):
 *
 *      R <- 1 + (R - R u - 1) exp(-Delta / tau_d)
 *      u <- U + u (1 - U) exp(-Delta / tau_f)
 *
 *  so the first two spikes have A = weight * U. The plastic (STDP) weight lives in the target
 *  wta_neuron, which multiplies it with the EPSP trace; this synapse only sets the amplitude.
 *  Parameters: U (in [0, 1]), tau_d, tau_f (ms, > 0), weight (amplitude scale, default 1);
 *  state: u (default U), R (default 1).
 */

#ifndef SPIKEFLOW_WTA_STP_SYNAPSE_H
#define SPIKEFLOW_WTA_STP_SYNAPSE_H

#include <cmath>
#include <string>

#include "connection.h"

namespace spikeflow
{

template < typename targetidentifierT >
class wta_stp_synapse : public nest::Connection< targetidentifierT >
{
public:
  typedef nest::CommonSynapseProperties CommonPropertiesType;
  typedef nest::Connection< targetidentifierT > ConnectionBase;

  static constexpr nest::ConnectionModelProperties properties = nest::ConnectionModelProperties::HAS_DELAY
    | nest::ConnectionModelProperties::IS_PRIMARY | nest::ConnectionModelProperties::SUPPORTS_HPC
    | nest::ConnectionModelProperties::SUPPORTS_LBL;

  wta_stp_synapse()
    : ConnectionBase()
    , weight_( 1.0 )
    , U_( 0.5 )
    , u_( 0.5 )
    , R_( 1.0 )
    , tau_d_( 110.0 )
    , tau_f_( 5.0 )
    , t_last_( -1.0 )
  {
  }
  wta_stp_synapse( const wta_stp_synapse& ) = default;
  wta_stp_synapse& operator=( const wta_stp_synapse& ) = default;

  using ConnectionBase::get_delay_steps;
  using ConnectionBase::get_rport;
  using ConnectionBase::get_target;

  class ConnTestDummyNode : public nest::ConnTestDummyNodeBase
  {
  public:
    using nest::ConnTestDummyNodeBase::handles_test_event;
    size_t
    handles_test_event( nest::SpikeEvent&, size_t ) override
    {
      return nest::invalid_port;
    }
  };

  void
  check_connection( nest::Node& s, nest::Node& t, size_t receptor_type, const CommonPropertiesType& )
  {
    ConnTestDummyNode dummy_target;
    ConnectionBase::check_connection_( dummy_target, s, t, receptor_type );
  }

  bool
  send( nest::Event& e, size_t tid, const CommonPropertiesType& )
  {
    const double t_spike = e.get_stamp().get_ms();
    const double amplitude = weight_ * u_ * R_;
    if ( t_last_ >= 0.0 )
    {
      const double delta = t_spike - t_last_;
      const double R_old = R_;
      const double u_old = u_;
      R_ = 1.0 + ( R_old - R_old * u_old - 1.0 ) * std::exp( -delta / tau_d_ );
      u_ = U_ + u_old * ( 1.0 - U_ ) * std::exp( -delta / tau_f_ );
    }
    t_last_ = t_spike;
    e.set_receiver( *get_target( tid ) );
    e.set_weight( amplitude );
    e.set_delay_steps( get_delay_steps() );
    e.set_rport( get_rport() );
    e();
    return true;
  }

  void
  get_status( Dictionary& d ) const
  {
    ConnectionBase::get_status( d );
    d[ nest::names::weight ] = weight_;
    d[ "U" ] = U_;
    d[ "u" ] = u_;
    d[ "R" ] = R_;
    d[ "tau_d" ] = tau_d_;
    d[ "tau_f" ] = tau_f_;
    d[ nest::names::size_of ] = static_cast< long >( sizeof( *this ) );
  }

  void
  set_status( const Dictionary& d, nest::ConnectorModel& cm )
  {
    ConnectionBase::set_status( d, cm );
    double weight = weight_, U = U_, u = u_, R = R_, tau_d = tau_d_, tau_f = tau_f_;
    d.update_value( nest::names::weight, weight );
    const bool U_given = d.update_value( "U", U );
    if ( not d.update_value( "u", u ) and U_given )
    {
      u = U;  // a new U without an explicit u resets u to it
    }
    d.update_value( "R", R );
    d.update_value( "tau_d", tau_d );
    d.update_value( "tau_f", tau_f );
    if ( U < 0.0 or U > 1.0 or u < 0.0 or u > 1.0 )
    {
      throw nest::BadProperty( "wta_stp_synapse: 'U' and 'u' must be in [0, 1]." );
    }
    if ( tau_d <= 0.0 or tau_f <= 0.0 )
    {
      throw nest::BadProperty( "wta_stp_synapse: 'tau_d' and 'tau_f' (ms) must be > 0." );
    }
    weight_ = weight;
    U_ = U;
    u_ = u;
    R_ = R;
    tau_d_ = tau_d;
    tau_f_ = tau_f;
  }

  void
  set_weight( double w )
  {
    weight_ = w;
  }

private:
  double weight_;  //!< amplitude scale
  double U_;       //!< utilization parameter
  double u_;       //!< current utilization
  double R_;       //!< current available resources
  double tau_d_;   //!< depression time constant (ms)
  double tau_f_;   //!< facilitation time constant (ms)
  double t_last_;  //!< time of the previous spike (ms), < 0 before the first
};

template < typename targetidentifierT >
constexpr nest::ConnectionModelProperties wta_stp_synapse< targetidentifierT >::properties;

void register_wta_stp_synapse( const std::string& name );

}  // namespace spikeflow

#endif
