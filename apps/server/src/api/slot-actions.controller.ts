import { Body, Controller, HttpCode, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentUser, Route } from '../auth/access';
import type { AuthUser } from '../auth/auth.service';
import { OperatorActionsService, type ActionAccepted } from '../actions/operator-actions.service';
import { EmptyDto } from './dto';

/** Each action is carried out by the agent of the slot's host; 503 when that agent is offline. */
@ApiTags('slot actions')
@Controller('api')
export class SlotActionsController {
  constructor(private readonly actions: OperatorActionsService) {}

  @Route('pauseSlot', 'Start no new run on this slot (a running restore finishes)')
  @HttpCode(202)
  pause(
    @Param('slotId') slotId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.slotAction(slotId, 'pause', user);
  }

  @Route('resumeSlot')
  @HttpCode(202)
  resume(
    @Param('slotId') slotId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.slotAction(slotId, 'resume', user);
  }

  @Route(
    'powerCycleSlot',
    "Switch the port's power off and on (hubs with per-port switching; refused mid-restore)",
  )
  @HttpCode(202)
  powerCycle(
    @Param('slotId') slotId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.slotAction(slotId, 'power-cycle', user);
  }

  @Route('clearQuarantine', 'Release a quarantined port (runs held on it start)')
  @HttpCode(202)
  clearQuarantine(
    @Param('slotId') slotId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.slotAction(slotId, 'clear-quarantine', user);
  }

  @Route('cableReplaced', "The cable was replaced: clear the quarantine and the port's health history")
  @HttpCode(202)
  cableReplaced(
    @Param('slotId') slotId: string,
    @Body() _body: EmptyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<ActionAccepted> {
    return this.actions.slotAction(slotId, 'cable-replaced', user);
  }
}
