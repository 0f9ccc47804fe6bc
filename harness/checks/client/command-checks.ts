/** The client checks of commands, statuses, Items and alerts, in the order they run after the core client checks. */
import type { Check } from '../finding';
import type { AnyClientSessionView } from '../client-checks';
import { deviceAlertCodes, deviceGenericAlerts, deviceWindowsAlerts } from './alerts';
import { deviceAtomicStatusesAcrossMessages, deviceContainersInOneMessage, deviceItemAddressesAndData, deviceStatusesMatchCommandsAndItems } from './commands';

export const COMMAND_CHECKS: readonly Check<AnyClientSessionView>[] = [
  deviceStatusesMatchCommandsAndItems, deviceAtomicStatusesAcrossMessages, deviceContainersInOneMessage, deviceItemAddressesAndData,
  deviceAlertCodes, deviceGenericAlerts, deviceWindowsAlerts,
];
