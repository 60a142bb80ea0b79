#include "output/kinds/all.hpp"

#include "output/kinds/capture.hpp"
#include "output/kinds/connlog.hpp"
#include "output/kinds/host.hpp"
#include "output/kinds/model.hpp"
#include "output/kinds/overview.hpp"
#include "output/kinds/registry.hpp"

namespace sockscope::output {

std::span<const RecordKind* const> all_kinds() {
  static const RecordKind* const kKinds[] = {
      &kEndpointKind,         &kPairKind,          &kGroupKind,
      &kEphemeralRangeKind,   &kAssignmentKind,    &kSocketKind,
      &kProcessKind,          &kServedKind,        &kRemoteServiceKind,
      &kOverviewSummaryKind,  &kDestinationKind,   &kProcessShareKind,
      &kBindPoolKind,         &kConversationKind,  &kZeekConnKind,
      &kByServiceKind,        &kByServerKind,      &kByClientKind,
      &kSocketOwnerKind,      &kRemoteHostKind,    &kPressureKind,
      &kTransportSummaryKind, &kKernelSocketsKind, &kConnectionEventKind,
      &kConnectionOwnerKind,  &kZeekHostConnKind,  &kConnectionSummaryKind};
  return kKinds;
}

}  // namespace sockscope::output
