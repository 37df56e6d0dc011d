/*
 *  wta_neuron.cpp -- see wta_neuron.h for the equations.
 *
 *  Part of spikeflow (GPL-2.0-or-later).
 */

#include "wta_neuron.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "exceptions.h"
#include "kernel_manager.h"
#include "nest_impl.h"
#include "nest_names.h"
#include "universal_data_logger_impl.h"

namespace
{
//! All circuits of this process, by id. Entries are only changed in pre_run_hook (under the
//! mutex) and in node destructors; during update each circuit is touched by one thread only.
std::map< long, spikeflow::WtaCircuit >&
circuits()
{
  static std::map< long, spikeflow::WtaCircuit > registry;
  return registry;
}
std::mutex registry_mutex;
}

namespace spikeflow
{

nest::RecordablesMap< wta_neuron > wta_neuron::recordablesMap_;

void
register_wta_neuron( const std::string& name )
{
  nest::register_node_model< wta_neuron >( name );
}

}

namespace nest
{
template <>
void
RecordablesMap< spikeflow::wta_neuron >::create()
{
  insert_( names::V_m, &spikeflow::wta_neuron::get_u_ );
  insert_( "p_spike", &spikeflow::wta_neuron::get_p_ );
}
}

namespace spikeflow
{

wta_neuron::Parameters_::Parameters_()
  : circuit( 0 )
  , circuit_size( 1 )
  , R_max( 100.0 )
  , tau_rise( 2.0 )
  , tau_decay( 20.0 )
  , eta( 0.05 )
  , w0( 0.0 )
  , w_init( 0.0 )
  , S_init( 0.0 )
  , Q_init( 1.0 )
  , learning( true )
  , variance_tracking( true )
{
}

void
wta_neuron::Parameters_::get( Dictionary& d ) const
{
  d[ "circuit" ] = circuit;
  d[ "circuit_size" ] = circuit_size;
  d[ "R_max" ] = R_max;
  d[ "tau_rise" ] = tau_rise;
  d[ "tau_decay" ] = tau_decay;
  d[ "eta" ] = eta;
  d[ "w0" ] = w0;
  d[ "w_init" ] = w_init;
  d[ "S_init" ] = S_init;
  d[ "Q_init" ] = Q_init;
  d[ "learning" ] = learning;
  d[ "variance_tracking" ] = variance_tracking;
}

void
wta_neuron::Parameters_::set( const Dictionary& d )
{
  d.update_integer_value( "circuit", circuit );
  d.update_integer_value( "circuit_size", circuit_size );
  d.update_value( "R_max", R_max );
  d.update_value( "tau_rise", tau_rise );
  d.update_value( "tau_decay", tau_decay );
  d.update_value( "eta", eta );
  d.update_value( "w0", w0 );
  d.update_value( "w_init", w_init );
  d.update_value( "S_init", S_init );
  d.update_value( "Q_init", Q_init );
  d.update_value( "learning", learning );
  d.update_value( "variance_tracking", variance_tracking );
  if ( circuit < 0 )
  {
    throw nest::BadProperty( "wta_neuron: 'circuit' must be >= 0." );
  }
  if ( circuit_size < 1 )
  {
    throw nest::BadProperty( "wta_neuron: 'circuit_size' must be >= 1." );
  }
  if ( R_max < 0.0 )
  {
    throw nest::BadProperty( "wta_neuron: 'R_max' (Hz) must be >= 0." );
  }
  if ( tau_rise <= 0.0 or tau_decay <= 0.0 )
  {
    throw nest::BadProperty( "wta_neuron: 'tau_rise' and 'tau_decay' (ms) must be > 0." );
  }
  if ( eta <= 0.0 )
  {
    throw nest::BadProperty( "wta_neuron: 'eta' must be > 0." );
  }
}

wta_neuron::State_::State_()
  : u( 0.0 )
  , p( 0.0 )
{
}

wta_neuron::Buffers_::Buffers_( wta_neuron& n )
  : logger_( n )
{
}

wta_neuron::Buffers_::Buffers_( const Buffers_&, wta_neuron& n )
  : logger_( n )
{
}

wta_neuron::wta_neuron()
  : ArchivingNode()
  , P_()
  , S_()
  , B_( *this )
  , circuit_( nullptr )
{
  recordablesMap_.create();
}

wta_neuron::wta_neuron( const wta_neuron& n )
  : ArchivingNode( n )
  , P_( n.P_ )
  , S_( n.S_ )
  , B_( n.B_, *this )
  , circuit_( nullptr )
{
}

wta_neuron::~wta_neuron()
{
  leave_circuit_();
}

size_t
wta_neuron::new_afferent_()
{
  S_.w.push_back( P_.w_init );
  S_.S.push_back( P_.S_init );
  S_.Q.push_back( P_.Q_init );
  S_.a.push_back( 0.0 );
  S_.b.push_back( 0.0 );
  S_.y.push_back( 0.0 );
  return S_.w.size() - 1;
}

void
wta_neuron::get_status( Dictionary& d ) const
{
  P_.get( d );
  d[ nest::names::V_m ] = S_.u;
  d[ "p_spike" ] = S_.p;
  d[ "n_afferents" ] = static_cast< long >( S_.w.size() );
  d[ "weights" ] = S_.w;
  d[ "S" ] = S_.S;
  d[ "Q" ] = S_.Q;
  d[ "epsps" ] = S_.y;
  ArchivingNode::get_status( d );
  d[ nest::names::recordables ] = recordablesMap_.get_list();
}

void
wta_neuron::set_status( const Dictionary& d )
{
  Parameters_ ptmp = P_;
  ptmp.set( d );
  State_ stmp = S_;
  const size_t n = stmp.w.size();
  auto update_vector = [ &d, n ]( const std::string& key, std::vector< double >& target )
  {
    std::vector< double > v;
    if ( d.update_value( key, v ) )
    {
      if ( v.size() != n )
      {
        std::ostringstream msg;
        msg << "wta_neuron: '" << key << "' needs one value per afferent (" << n << "), got " << v.size() << ".";
        throw nest::BadProperty( msg.str() );
      }
      target = v;
    }
  };
  update_vector( "weights", stmp.w );
  update_vector( "S", stmp.S );
  update_vector( "Q", stmp.Q );
  ArchivingNode::set_status( d );
  if ( ptmp.circuit != P_.circuit )
  {
    leave_circuit_();
  }
  P_ = ptmp;
  S_ = stmp;
}

void
wta_neuron::init_buffers_()
{
  B_.arrivals.clear();
  B_.spike_lags.clear();
  B_.logger_.reset();
  ArchivingNode::clear_history();
}

void
wta_neuron::pre_run_hook()
{
  B_.logger_.init();
  const double dt = nest::Time::get_resolution().get_ms();
  V_.decay_a = std::exp( -dt / P_.tau_decay );
  V_.decay_b = std::exp( -dt / P_.tau_rise );
  V_.p_scale = P_.R_max * dt / 1000.0;
  if ( V_.p_scale > 1.0 )
  {
    throw nest::BadProperty( "wta_neuron: R_max * resolution must not exceed 1 (a probability per step)." );
  }
  const size_t size = static_cast< size_t >(
    nest::kernel().connection_manager.get_min_delay() + nest::kernel().connection_manager.get_max_delay() );
  if ( B_.arrivals.size() != size )
  {
    // re-bucket pending arrivals if the buffer size changed (only before the first run)
    std::vector< std::vector< std::pair< size_t, double > > > old;
    old.swap( B_.arrivals );
    B_.arrivals.resize( size );
  }
  B_.rec_u.assign( nest::kernel().connection_manager.get_min_delay(), 0.0 );
  B_.rec_p.assign( nest::kernel().connection_manager.get_min_delay(), 0.0 );
  register_in_circuit_();
}

void
wta_neuron::register_in_circuit_()
{
  std::lock_guard< std::mutex > lock( registry_mutex );
  WtaCircuit& c = circuits()[ P_.circuit ];
  if ( c.members.empty() )
  {
    c.id = P_.circuit;
    c.thread = get_thread();
  }
  if ( c.thread != get_thread() )
  {
    std::ostringstream msg;
    msg << "wta_neuron: circuit " << P_.circuit << " has members on different threads (node " << get_node_id()
        << "); all neurons of a circuit must be on the same virtual process.";
    throw nest::KernelException( msg.str() );
  }
  if ( std::find( c.members.begin(), c.members.end(), this ) == c.members.end() )
  {
    c.members.push_back( this );
    std::sort( c.members.begin(),
      c.members.end(),
      []( const wta_neuron* x, const wta_neuron* y ) { return x->get_node_id() < y->get_node_id(); } );
  }
  c.checked = false;
  circuit_ = &c;
}

void
wta_neuron::leave_circuit_()
{
  if ( circuit_ == nullptr )
  {
    return;
  }
  std::lock_guard< std::mutex > lock( registry_mutex );
  auto it = circuits().find( circuit_->id );
  if ( it != circuits().end() )
  {
    auto& m = it->second.members;
    m.erase( std::remove( m.begin(), m.end(), this ), m.end() );
    it->second.checked = false;
    if ( m.empty() )
    {
      circuits().erase( it );
    }
  }
  circuit_ = nullptr;
}

void
wta_neuron::handle( nest::SpikeEvent& e )
{
  const nest::Time& origin = nest::kernel().simulation_manager.get_slice_origin();
  const long step = origin.get_steps() + e.get_rel_delivery_steps( origin );
  const size_t slot = static_cast< size_t >( step ) % B_.arrivals.size();
  B_.arrivals[ slot ].emplace_back( e.get_rport(), e.get_weight() * e.get_multiplicity() );
}

void
wta_neuron::handle( nest::DataLoggingRequest& e )
{
  B_.logger_.handle( e );
}

double
wta_neuron::integrate_step_( long step )
{
  const size_t n = S_.w.size();
  double* a = S_.a.data();
  double* b = S_.b.data();
  for ( size_t i = 0; i < n; ++i )
  {
    a[ i ] *= V_.decay_a;
    b[ i ] *= V_.decay_b;
  }
  auto& arriving = B_.arrivals[ static_cast< size_t >( step ) % B_.arrivals.size() ];
  for ( const auto& [ i, amplitude ] : arriving )
  {
    a[ i ] += amplitude;
    b[ i ] += amplitude;
  }
  arriving.clear();
  double u = P_.w0;
  const double* w = S_.w.data();
  double* y = S_.y.data();
  for ( size_t i = 0; i < n; ++i )
  {
    y[ i ] = a[ i ] - b[ i ];
    u += w[ i ] * y[ i ];
  }
  S_.u = u;
  return u;
}

void
wta_neuron::learn_()
{
  const size_t n = S_.w.size();
  for ( size_t i = 0; i < n; ++i )
  {
    double& w = S_.w[ i ];
    double& s = S_.S[ i ];
    double& q = S_.Q[ i ];
    const double eta = P_.variance_tracking ? P_.eta * ( q - s * s ) / ( std::exp( -s ) + 1.0 ) : P_.eta;
    const double ew = std::exp( w );
    w += eta * ( S_.y[ i ] - ew ) / std::max( ew, eta );
    if ( P_.variance_tracking )
    {
      s += eta * ( w - s );
      q += eta * ( w * w - q );
    }
  }
}

void
wta_neuron::record_lag_( long lag, double p )
{
  S_.p = p;
  B_.rec_u[ lag ] = S_.u;
  B_.rec_p[ lag ] = p;
}

void
wta_neuron::compute_slice_( WtaCircuit& c, nest::Time const& origin, long from, long to )
{
  if ( not c.checked )
  {
    if ( static_cast< long >( c.members.size() ) != P_.circuit_size )
    {
      std::ostringstream msg;
      msg << "wta_neuron: circuit " << c.id << " has " << c.members.size()
          << " members on this virtual process but circuit_size is " << P_.circuit_size
          << "; all neurons of a circuit must be on the same virtual process and agree on circuit_size.";
      throw nest::KernelException( msg.str() );
    }
    for ( const wta_neuron* m : c.members )
    {
      if ( m->P_.circuit_size != P_.circuit_size or m->P_.R_max != P_.R_max )
      {
        throw nest::KernelException( "wta_neuron: members of one circuit must agree on circuit_size and R_max." );
      }
    }
    c.checked = true;
  }
  const size_t k = c.members.size();
  std::vector< double > u( k ), p( k );
  nest::RngPtr rng = nest::get_vp_specific_rng( get_thread() );
  for ( wta_neuron* m : c.members )
  {
    m->B_.spike_lags.clear();
  }
  for ( long lag = from; lag < to; ++lag )
  {
    const long step = origin.get_steps() + lag;
    double u_max = -std::numeric_limits< double >::infinity();
    for ( size_t j = 0; j < k; ++j )
    {
      u[ j ] = c.members[ j ]->integrate_step_( step );
      u_max = std::max( u_max, u[ j ] );
    }
    double z = 0.0;
    for ( size_t j = 0; j < k; ++j )
    {
      p[ j ] = std::exp( u[ j ] - u_max );
      z += p[ j ];
    }
    for ( size_t j = 0; j < k; ++j )
    {
      p[ j ] *= V_.p_scale / z;
      c.members[ j ]->record_lag_( lag, p[ j ] );
    }
    const double x = rng->drand();
    double cumulative = 0.0;
    for ( size_t j = 0; j < k; ++j )
    {
      cumulative += p[ j ];
      if ( x < cumulative )
      {
        wta_neuron* winner = c.members[ j ];
        winner->B_.spike_lags.push_back( lag );
        if ( winner->P_.learning )
        {
          winner->learn_();
        }
        break;
      }
    }
  }
  c.done_until = origin.get_steps() + to;
}

void
wta_neuron::update( nest::Time const& origin, const long from, const long to )
{
  if ( circuit_ == nullptr )
  {
    throw nest::KernelException( "wta_neuron: not registered in a circuit (internal error)." );
  }
  WtaCircuit& c = *circuit_;
  if ( c.done_until < origin.get_steps() + to )
  {
    compute_slice_( c, origin, from, to );
  }
  for ( const long lag : B_.spike_lags )
  {
    set_spiketime( nest::Time::step( origin.get_steps() + lag + 1 ) );
    nest::SpikeEvent se;
    nest::kernel().event_delivery_manager.send( *this, se, lag );
  }
  B_.spike_lags.clear();
  const double u_last = S_.u, p_last = S_.p;
  for ( long lag = from; lag < to; ++lag )
  {
    S_.u = B_.rec_u[ lag ];
    S_.p = B_.rec_p[ lag ];
    B_.logger_.record_data( origin.get_steps() + lag );
  }
  S_.u = u_last;
  S_.p = p_last;
}

}  // namespace spikeflow
