import { bootApp } from '@bench/app-runtime';
import { AgentModule } from './agent.module';

void bootApp({
  app: 'bench-agent',
  module: (context) => AgentModule.register(context),
  listen: (env) => env.agent,
});
