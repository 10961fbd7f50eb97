/** The survey's test door: a lab of simulated IoT daemons on 127.0.x.y and a signed plan for it (tests and bench/survey). */
export {
  LAB_CREDENTIALS,
  LAB_NET,
  LAB_PASSWORDS,
  LAB_PORTS,
  LAB_VULNERABLE_CSV,
  labScope,
  RECOG_DIR,
  startLab,
  writeLabPlan,
  type Lab,
  type LabDevice,
} from './harness/lab.ts';
export { busyboxPath } from './harness/devices.ts';
