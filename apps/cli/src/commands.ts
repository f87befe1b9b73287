// Every `bench` verb registers itself here (one import and one array entry per verb).
import type { Command } from 'commander';
import { registerBatch } from './batch/register';
import { registerClassifyLog } from './classify-log/register';
import { registerDevices } from './devices/register';
import { registerDoctor } from './doctor/register';
import { registerFirmware } from './firmware/register';
import { registerMigrate } from './migrate/register';
import { registerReport } from './report/register';
import { registerRestore } from './restore/register';
import { registerSim } from './sim/register';
import { registerStatus } from './status/register';
import { registerStart } from './start/register';
import { registerUser } from './user/register';
import { registerVerifyCertificate } from './verify-certificate/register';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  registerStart,
  registerDoctor,
  registerMigrate,
  registerFirmware,
  registerClassifyLog,
  registerSim,
  registerRestore,
  registerDevices,
  registerStatus,
  registerUser,
  registerBatch,
  registerReport,
  registerVerifyCertificate,
];
